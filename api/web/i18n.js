// Interface strings: every user-facing text comes from a table keyed by id (STRINGS.<lang>.<id>).
//
// Tables live in i18n/<lang>.json and are listed in i18n/languages.json; see i18n/README.md.
// The language is chosen from ?lang=, then the browser's languages, then <html lang>, then the
// default ("en"). A missing id in a table falls back to English, so a partial translation works.

export const STRINGS = {};
const state = { lang: 'en', fallback: 'en', dir: 'ltr', names: {} };
const BASE = new URL('./i18n/', import.meta.url);

async function fetchJson(url) {
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** The best available language for this visit. */
export function chooseLanguage(available, fallback) {
  const has = (code) => {
    if (!code) return null;
    const c = String(code).trim().toLowerCase();
    if (available.includes(c)) return c;
    const base = c.split('-')[0];
    return available.includes(base) ? base : null;
  };
  const param = new URLSearchParams(location.search).get('lang');
  return has(param)
    || (navigator.languages || [navigator.language]).map(has).find(Boolean)
    || has(document.documentElement.getAttribute('lang'))
    || fallback;
}

/** Load the manifest, the fallback table and the chosen language's table. */
export async function loadStrings() {
  const manifest = await fetchJson(new URL('languages.json', BASE));
  const langs = manifest.languages || {};
  state.fallback = manifest.default || 'en';
  state.lang = chooseLanguage(Object.keys(langs), state.fallback);
  state.dir = (langs[state.lang] && langs[state.lang].dir) || 'ltr';
  const load = async (code) => {
    if (!STRINGS[code]) STRINGS[code] = await fetchJson(new URL(langs[code].file || `${code}.json`, BASE));
  };
  await load(state.fallback);
  if (state.lang !== state.fallback) {
    try { await load(state.lang); } catch (err) { console.warn('pactkb: strings', err); state.lang = state.fallback; }
  }
  document.documentElement.lang = state.lang;
  document.documentElement.dir = state.dir;
  return state.lang;
}

export const uiLang = () => state.lang;

function lookup(id) {
  const own = STRINGS[state.lang];
  if (own && own[id] !== undefined) return own[id];
  const fb = STRINGS[state.fallback];
  return fb ? fb[id] : undefined;
}

/** Every id of the reference (fallback) table. */
export function stringIds() {
  return Object.keys(STRINGS[state.fallback] || {});
}

export function has(id) {
  return lookup(id) !== undefined;
}

const numberFormat = () => new Intl.NumberFormat(state.lang);

/** The string `id` with {name} placeholders filled; plural entries ({one, other, ...}) use params.count. */
export function t(id, params = {}) {
  let s = lookup(id);
  if (s === undefined) {
    console.warn(`pactkb: missing string ${id}`);
    return id;
  }
  if (typeof s === 'object') {
    const n = Number(params.count ?? 0);
    const cat = new Intl.PluralRules(state.lang).select(n);
    s = s[cat] ?? s.other;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in params)) return m;
    const v = params[name];
    return typeof v === 'number' ? numberFormat().format(v) : String(v);
  });
}

/** A label for a data value (doc type, area...): the table's `${prefix}.${value}`, else the value itself. */
export function valueLabel(prefix, value) {
  const id = `${prefix}.${value}`;
  return has(id) ? t(id) : String(value);
}

/** A language code as a name in the interface language ("sr" -> "Serbian"). */
export function languageName(code) {
  if (!code) return '';
  try {
    const names = state.names[state.lang] || (state.names[state.lang] = new Intl.DisplayNames([state.lang], { type: 'language' }));
    return names.of(code) || code;
  } catch {
    return code;
  }
}

export function formatDate(seconds) {
  return new Intl.DateTimeFormat(state.lang, { dateStyle: 'medium' }).format(new Date(seconds * 1000));
}

/** Fill static markup: data-i18n (text), data-i18n-<attr> (attribute), e.g. data-i18n-placeholder. */
export function applyStaticStrings(root = document) {
  for (const el of root.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      if (!attr.startsWith('data-i18n')) continue;
      const id = el.getAttribute(attr);
      if (attr === 'data-i18n') el.textContent = t(id);
      else el.setAttribute(attr.slice('data-i18n-'.length), t(id));
    }
  }
}
