// pactkb search page: search, facets, "more like this", document pages, sign-in and upload.
// Plain ES module, no dependencies. Every user-facing text comes from the strings table (i18n.js).

import {
  applyStaticStrings, formatDate, languageName, loadStrings, STRINGS, stringIds, t, uiLang, valueLabel,
} from './i18n.js';

// ---------------------------------------------------------------------------------------------
// Configuration (values the API accepts; labels come from the strings table)
// ---------------------------------------------------------------------------------------------
const API_BASE = new URL('../', import.meta.url);
const KEY_STORAGE = 'pactkb.apiKey';
const PAGE_SIZE = 10;
const CHUNK_PAGE = 20;
const DEBOUNCE_MS = 300;
const MIN_TYPED = 2;
const READY_POLL_MS = 2000;
const JOB_POLL_MS = 800;
const FACET_VISIBLE = 6;
// Every repeatable filter a page URL may carry: the API's names (GET /search), so a shared link filters the same.
const MULTI_FILTERS = ['type', 'area', 'language', 'publisher', 'document', 'sensitivity'];
const FACETS = [
  { field: 'area', param: 'area', label: 'facet_area', value: (v) => valueLabel('area', v) },
  { field: 'doc_type', param: 'type', label: 'facet_type', value: (v) => valueLabel('doc_type', v) },
  { field: 'language', param: 'language', label: 'facet_language', value: (v) => languageName(v) },
  { field: 'year', param: 'year', label: 'facet_year', value: (v) => String(v) },
  { field: 'publisher', param: 'publisher', label: 'facet_publisher', value: (v) => String(v) },
];
const UNSPECIFIED = new Set(['unknown', '(none)', '']);
// Document types, areas, sensitivity labels and search modes come from the server (GET /vocabulary), never re-typed here.
const VOCABULARY = { doc_types: [], areas: [], sensitivities: [], modes: [], default_mode: '', roles: [] };
const UPLOAD_LANGUAGES = ['en', 'sq', 'sr', 'mk', 'bs', 'hr', 'sl', 'de', 'fr', 'it'];
const UPLOAD_FIELDS = ['title', 'publisher', 'year', 'type', 'language', 'sensitivity'];

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------
const $ = (sel, root = document) => root.querySelector(sel);
/** Whether a sensitivity label is the least restricted one (no badge). */
const isOpen = (label) => label === VOCABULARY.sensitivities[0];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Create an element: h('a', {href, class, onclick}, children...). Text is always set as text. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replace an element's children, skipping null/false entries (conditional parts). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** The server's snippet (escaped text with <mark>) as DOM nodes; anything but <mark> becomes text. */
function snippetNodes(html) {
  const tpl = document.createElement('template');
  tpl.innerHTML = html || '';
  const out = document.createDocumentFragment();
  const walk = (node, target) => {
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) target.append(n.data);
      else if (n.nodeType === Node.ELEMENT_NODE) {
        if (n.tagName === 'MARK') target.append(h('mark', {}, n.textContent));
        else walk(n, target);
      }
    }
  };
  walk(tpl.content, out);
  return out;
}

/** "p. 4", "p. 14–15", with "(printed 2)" when the printed page label differs. */
/** Sorted unique pages as ranges: [7, 4, 5, 5] -> "pp. 4–5, 7" (the terminal's format). */
function pageRanges(spans) {
  const pages = [...new Set(spans.flatMap(([a, b]) => Array.from({ length: (b || a) - a + 1 }, (_, i) => a + i)))].sort((x, y) => x - y);
  const runs = [];
  for (const n of pages) {
    if (runs.length && n === runs[runs.length - 1][1] + 1) runs[runs.length - 1][1] = n;
    else runs.push([n, n]);
  }
  const text = runs.map(([a, b]) => (a === b ? String(a) : `${a}–${b}`)).join(', ');
  return pages.length === 1 ? t('page_single', { page: text }) : t('pages_list', { pages: text });
}

/** Consecutive results from one document: [{hit, more: [hits that follow it from the same document]}]. */
function foldByDocument(results) {
  const groups = [];
  for (const hit of results) {
    const last = groups[groups.length - 1];
    if (last && last.hit.document_id === hit.document_id) last.more.push(hit);
    else groups.push({ hit, more: [] });
  }
  return groups;
}

function pagesText(start, end, labelStart, labelEnd) {
  // Page numbers and labels are identifiers, not quantities: pass them as text (no "1,234").
  const pages = start === end || !end ? t('page_single', { page: String(start) })
    : t('page_range', { start: String(start), end: String(end) });
  if (!labelStart || labelStart === String(start)) return pages;
  if (labelEnd === undefined && labelStart === `${start}–${end}`) return pages; // a hit's joined label that says the same
  let printed;
  if (start === end || !end) printed = t('printed_single', { label: labelStart });
  else if (labelEnd && labelEnd !== labelStart) printed = t('printed_range', { start: labelStart, end: labelEnd });
  else if (labelEnd === undefined) printed = t('printed_from', { label: labelStart });
  else printed = t('printed_single', { label: labelStart });
  return `${pages} ${printed}`;
}

const squashText = (text) => (text || '').toLowerCase().replace(/\s+/g, ' ').trim();
// A section path as shown: its headings joined, without a leading heading that only repeats the document's title
// (a cover's title heads every later page: "Polaris Analysis of 2021 Data … › Recruitment" under that very title).
const sectionText = (section, title) => {
  const parts = (section || '').split(/\s+>\s+/).filter(Boolean);
  while (title && parts.length && squashText(parts[0]) === squashText(title)) parts.shift();
  return parts.join(t('section_separator'));
};
const apiUrl = (path) => new URL(path.replace(/^\//, ''), API_BASE);
const fileLink = (url) => (url ? new URL(url, API_BASE).href : '#');
const withPage = (fileUrl, page) => `${fileLink(fileUrl).split('#')[0]}#page=${page}`;
const PREVIEW_WIDTH = 720;
const THUMB_WIDTH = 240; // shown at half size: sharp on high-density screens
const THUMBS_FIRST = 40;

/** A page image of the document behind a file link (same signed token); `chunk` highlights that passage. */
function previewUrl(fileUrl, page, { width, chunk } = {}) {
  const url = new URL(fileLink(fileUrl).split('#')[0]);
  url.pathname = url.pathname.replace(/\/file$/, `/pages/${page}/image`);
  url.searchParams.set('width', width);
  if (chunk) url.searchParams.set('chunk', chunk);
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Sign-in state (sessionStorage only: never the URL, never localStorage)
// ---------------------------------------------------------------------------------------------
const auth = {
  key() {
    try { return sessionStorage.getItem(KEY_STORAGE); } catch { return null; }
  },
  /** What GET /me said about the signed-in key: name, role, clearance, can_upload. */
  me() {
    try { return JSON.parse(sessionStorage.getItem(`${KEY_STORAGE}.me`) || 'null'); } catch { return null; }
  },
  set(key, me) {
    sessionStorage.setItem(KEY_STORAGE, key);
    sessionStorage.setItem(`${KEY_STORAGE}.me`, JSON.stringify(me));
    authChanged();
  },
  clear() {
    try {
      sessionStorage.removeItem(KEY_STORAGE);
      sessionStorage.removeItem(`${KEY_STORAGE}.me`);
    } catch { /* storage unavailable */ }
    authChanged();
  },
};

// ---------------------------------------------------------------------------------------------
// API access
// ---------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
}

let pending = new AbortController();
function abortPending() {
  pending.abort();
  pending = new AbortController();
}

/** fetch + JSON + errors; sends the signed-in key; a rejected key signs the user out. */
async function api(path, { params, method = 'GET', body, key = auth.key(), signal = pending.signal } = {}) {
  const url = apiUrl(path);
  if (params) url.search = params.toString();
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(url, { method, body, headers, signal, cache: 'no-store', credentials: 'same-origin' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, t('error_network'));
  }
  let data = null;
  try {
    data = await res.json();
  } catch (err) {
    if (err.name === 'AbortError') throw err; // cancelled while reading the body
  }
  if (signal && signal.aborted) throw new DOMException('superseded', 'AbortError');
  if (res.ok) return data;
  const detail = (data && data.detail) || `HTTP ${res.status}`;
  const error = new ApiError(res.status, detail, (data && data.errors) || []);
  if (res.status === 401 && key && key === auth.key()) {
    notify('auth', t('signed_out_rejected', { detail }), 'warning');
    auth.clear();
    error.authRejected = true;
  }
  if (res.status === 503) notReady();
  throw error;
}

// ---------------------------------------------------------------------------------------------
// Notices and announcements
// ---------------------------------------------------------------------------------------------
function notify(id, text, kind = 'info') {
  const box = $('#notices');
  let el = box.querySelector(`[data-notice="${id}"]`);
  if (!text) { if (el) el.remove(); return; }
  if (!el) {
    el = h('div', { class: `notice notice-${kind}`, 'data-notice': id, role: kind === 'info' ? 'status' : 'alert' });
    box.append(el);
  }
  el.className = `notice notice-${kind}`;
  fill(el, h('p', {}, text),
    h('button', { type: 'button', class: 'notice-close', 'aria-label': t('dismiss'), onclick: () => el.remove() }, '×'));
}

function announce(text) {
  const el = $('#announcer');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 50);
}

// ---------------------------------------------------------------------------------------------
// Readiness (/ready): while the index loads, say so and poll
// ---------------------------------------------------------------------------------------------
let ready = false;
let stats = null;
let readyTimer = null;

async function checkReady() {
  try {
    const res = await fetch(apiUrl('ready'), { cache: 'no-store' });
    const data = await res.json().catch(() => null);
    if (res.ok) {
      const wasWaiting = !ready;
      ready = true;
      stats = data;
      notify('ready', null);
      return wasWaiting;
    }
  } catch { /* unreachable: keep polling */ }
  notReady();
  return false;
}

function notReady() {
  ready = false;
  if (current.view !== 'search' && current.view !== 'similar') notify('ready', t('index_loading'), 'info');
  if (readyTimer) return;
  readyTimer = setTimeout(async () => {
    readyTimer = null;
    if (await checkReady()) render(readRoute());
  }, READY_POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Routes: everything a view needs is in the URL (?q=&type=&mode=..., ?similar=, ?doc=, ?view=upload)
// ---------------------------------------------------------------------------------------------
function readRoute(search = location.search) {
  const p = new URLSearchParams(search);
  const int = (v) => {
    const n = Number.parseInt(v ?? '', 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  };
  const filters = {};
  for (const k of MULTI_FILTERS) filters[k] = p.getAll(k).filter((v) => v !== '');
  Object.assign(filters, parseYear(p.get('year') || ''));
  // Old bookmarks (year_min/year_max, renamed to year=2020-2025 in this release) still open.
  if (!p.get('year')) Object.assign(filters, { year_min: p.get('year_min') || '', year_max: p.get('year_max') || '' });
  filters.current = p.get('current') === 'true';
  const route = {
    view: 'home', q: p.get('q') || '', mode: p.get('mode') || VOCABULARY.default_mode, group: p.get('group_by_document') === 'true',
    offset: int(p.get('offset')), filters, lang: p.get('lang') || '',
  };
  if (p.get('doc')) return { ...route, view: 'doc', doc: p.get('doc') };
  if (p.get('view') === 'upload') return { ...route, view: 'upload' };
  if (p.get('similar')) return { ...route, view: 'similar', chunk: p.get('similar') };
  if (route.q.trim()) return { ...route, view: 'search' };
  return route;
}

/** The year filter's value: "2020", "2020-2025", "2020-" or "-2025" (the API's and the CLI's syntax). */
function yearParam(f) {
  if (!f.year_min && !f.year_max) return '';
  if (f.year_min === f.year_max) return String(f.year_min);
  return `${f.year_min || ''}-${f.year_max || ''}`;
}

/** year_min/year_max from a year value; anything else is kept whole so the API can say what is wrong with it. */
function parseYear(value) {
  const m = /^\s*(\d{4})?\s*-\s*(\d{4})?\s*$/.exec(value);
  if (m && (m[1] || m[2])) return { year_min: m[1] || '', year_max: m[2] || '' };
  return { year_min: value.trim(), year_max: value.trim() };
}

function routeUrl(r) {
  const p = new URLSearchParams();
  if (r.view === 'doc') {
    p.set('doc', r.doc);
    if (r.offset) p.set('offset', r.offset);
  } else if (r.view === 'upload') {
    p.set('view', 'upload');
  } else if (r.view === 'search' || r.view === 'similar') {
    if (r.view === 'search') p.set('q', r.q);
    else p.set('similar', r.chunk);
    for (const k of MULTI_FILTERS) for (const v of r.filters[k] || []) p.append(k, v);
    if (yearParam(r.filters)) p.set('year', yearParam(r.filters));
    if (r.filters.current) p.set('current', 'true');
    if (r.view === 'search') {
      p.set('mode', r.mode || VOCABULARY.default_mode);
      if (r.group) p.set('group_by_document', 'true');
    }
    if (r.offset) p.set('offset', r.offset);
  }
  if (r.lang) p.set('lang', r.lang);
  const s = p.toString();
  return s ? `/?${s}` : '/';
}

let current = readRoute();

function navigate(route, { replace = false, focus = null } = {}) {
  const url = routeUrl({ ...route, lang: current.lang });
  const here = location.pathname + location.search;
  // "Back to results" can use the browser's back only when the previous entry is a results page.
  const fromResults = current.view === 'search' || current.view === 'similar';
  const state = { back: fromResults && (route.view === 'doc' || route.view === 'similar') ? here : null };
  if (replace || url === here) history.replaceState(history.state && url === here ? history.state : state, '', url);
  else history.pushState(state, '', url);
  return render(readRoute(), { focus });
}

function hasFilters(f) {
  return MULTI_FILTERS.some((k) => (f[k] || []).length) || Boolean(f.year_min || f.year_max || f.current);
}

const noFilters = () => ({ ...Object.fromEntries(MULTI_FILTERS.map((k) => [k, []])), year_min: '', year_max: '', current: false });

// ---------------------------------------------------------------------------------------------
// Rendering a route
// ---------------------------------------------------------------------------------------------
let lastSearchUrl = null;

async function render(route, { focus = null } = {}) {
  current = route;
  abortPending();
  syncSearchForm(route);
  const view = route.view === 'search' || route.view === 'similar' ? 'results' : route.view;
  for (const name of ['home', 'results', 'doc', 'upload']) $(`#view-${name}`).hidden = name !== view;
  if (route.view === 'search' || route.view === 'similar') lastSearchUrl = location.pathname + location.search;
  document.title = pageTitle(route);
  try {
    if (route.view === 'home') renderHome();
    else if (route.view === 'search' || route.view === 'similar') await runSearch(route, focus);
    else if (route.view === 'doc') await renderDocument(route, focus);
    else if (route.view === 'upload') renderUpload();
  } catch (err) {
    if (err.name !== 'AbortError') throw err;
  }
}

function pageTitle(route) {
  const app = t('app_name');
  if (route.view === 'search') return t('title_search', { q: route.q, app });
  if (route.view === 'similar') return t('title_similar', { app });
  if (route.view === 'upload') return t('title_upload', { app });
  return app;
}

function syncSearchForm(route) {
  const q = $('#q');
  if (document.activeElement !== q) {
    if (route.view === 'search') q.value = route.q;
    else if (route.view === 'home') q.value = '';
  }
  const mode = $('#mode');
  if ([...mode.options].some((o) => o.value === route.mode)) mode.value = route.mode;
  $('#group').checked = route.group;
}

// -- home ---------------------------------------------------------------------------------------
function renderHome() {
  const list = $('#examples');
  const examples = stringIds().filter((k) => k.startsWith('example_query_')).sort();
  fill(list, ...examples.map((id) => {
    const q = t(id);
    const href = routeUrl({ view: 'search', q, mode: VOCABULARY.default_mode, filters: noFilters(), lang: current.lang });
    return h('li', {}, h('a', { href, 'data-nav': 'route' }, q));
  }));
  $('#home-stats').textContent = stats && stats.documents !== undefined
    ? t('home_stats', { documents: stats.documents, chunks: stats.chunks, count: stats.documents }) : '';
}

// -- search and "more like this" ------------------------------------------------------------
let requestSeq = 0;
const facetMemory = new Map();

function searchParams(route) {
  const p = new URLSearchParams();
  if (route.view === 'search') {
    p.set('q', route.q);
    p.set('mode', route.mode || VOCABULARY.default_mode);
    if (route.group) p.set('group_by_document', 'true');
  }
  p.set('k', PAGE_SIZE);
  p.set('offset', route.offset || 0);
  for (const k of MULTI_FILTERS) for (const v of route.filters[k] || []) p.append(k, v);
  if (yearParam(route.filters)) p.set('year', yearParam(route.filters));
  if (route.filters.current) p.set('current', 'true');
  return p;
}

async function runSearch(route, focus) {
  const seq = ++requestSeq;
  const results = $('#results');
  results.setAttribute('aria-busy', 'true');
  $('#summary').textContent = t('searching');
  $('#summary').classList.add('is-busy');
  if (!ready) {
    await checkReady();
    if (!ready) {
      if (seq === requestSeq) showLoadingState();
      return;
    }
  }
  try {
    let data;
    let source = null;
    if (route.view === 'similar') {
      [data, source] = await Promise.all([
        api(`chunks/${encodeURIComponent(route.chunk)}/similar`, { params: searchParams(route) }),
        api(`chunks/${encodeURIComponent(route.chunk)}`).catch((err) => { if (err.name === 'AbortError') throw err; return null; }),
      ]);
    } else {
      data = await api('search', { params: searchParams(route) });
    }
    if (seq !== requestSeq) return;
    renderResults(route, data, source, focus);
  } catch (err) {
    if (err.authRejected) { render(readRoute()); return; }
    if (err.name === 'AbortError' || seq !== requestSeq) return;
    if (err.status === 503) showLoadingState();
    else showError(route, err);
  } finally {
    if (seq === requestSeq) {
      results.removeAttribute('aria-busy');
      $('#summary').classList.remove('is-busy');
    }
  }
}

function clearResults() {
  fill($('#result-list'));
  fill($('#pager'));
  fill($('#message'));
  fill($('#active-filters'));
  $('#summary').textContent = '';
  $('#similar-head').hidden = true;
  fill($('#similar-head'));
}

/** Facets beside (or above) the results; without any, the results take the full width. */
function showFacets(on) {
  $('.facets').hidden = !on;
  $('#view-results .layout').classList.toggle('no-facets', !on);
}

function showLoadingState() {
  clearResults();
  fill($('#facet-groups'));
  showFacets(false);
  notify('ready', null); // the results area says it; no second notice
  $('#results-title').textContent = t('results_title');
  fill($('#message'), h('div', { class: 'state state-loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('div', {}, h('h2', {}, t('index_loading_title')), h('p', {}, t('index_loading_detail')))));
  announce(t('index_loading'));
}

function showError(route, err) {
  clearResults();
  fill($('#facet-groups'));
  showFacets(false);
  renderActiveFilters(route);
  $('#results-title').textContent = t('results_title');
  const title = err.status === 404 && route.view === 'similar' ? t('similar_not_found')
    : err.status >= 400 && err.status < 500 ? t('error_request_title') : t('error_title');
  const items = (err.errors || []).length > 1
    ? h('ul', { class: 'error-list' }, err.errors.map((e) => h('li', {}, h('code', {}, e.field), ' ', e.message)))
    : null;
  fill($('#message'), h('div', { class: 'state state-error', role: 'alert' },
    h('h2', {}, title),
    h('p', { class: 'api-message' }, err.detail),
    items,
    err.status === 401 && !auth.key()
      ? h('p', {}, h('button', { type: 'button', class: 'primary', onclick: openSignIn }, t('sign_in')))
      : null,
    hasFilters(route.filters)
      ? h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => clearFilters(route) }, t('clear_filters')))
      : null));
  announce(`${title} ${err.detail}`);
}

function summaryText(route, data) {
  const from = data.results.length ? data.offset + 1 : 0;
  const to = data.offset + data.results.length;
  const id = route.view === 'similar' ? 'summary_similar' : route.group ? 'summary_documents' : 'summary_passages';
  // 'gte': the total is a lower bound (more results lie beyond the candidates the search looked at)
  const base = t(data.total_relation === 'gte' ? `${id}_gte` : id, { count: data.total, q: route.q });
  const range = data.total > data.results.length && data.results.length ? ` ${t('summary_range', { from, to })}` : '';
  return { base, range };
}

function renderResults(route, data, source, focus) {
  clearResults();
  const { base, range } = summaryText(route, data);
  $('#results-title').textContent = route.view === 'similar' ? t('similar_title') : t('results_for', { q: route.q });
  fill($('#summary'), h('span', { class: 'summary-count' }, base), range,
    h('span', { class: 'took' }, ` ${t('took', { ms: Math.round(data.took_ms) })}`));
  if (route.view === 'similar') renderSimilarHead(source);
  renderActiveFilters(route);
  renderFacets(route, data);

  const msg = $('#message');
  if (data.query_translation && data.query_translation.length) {
    msg.append(h('p', { class: 'state-note' }, t('also_searched', { words: data.query_translation.join(' ') })));
  }
  if (data.query_expansion && data.query_expansion.length) {
    msg.append(h('p', { class: 'state-note expansion' }, t('also_searched_synonyms', { words: data.query_expansion.join(', ') })));
  }
  if (data.no_good_answer && data.results.length) {
    msg.append(h('div', { class: 'state state-weak', role: 'note' }, h('p', {}, t('no_good_answer'))));
  }
  if (!data.results.length) {
    msg.append(emptyState(route, data));
  }
  fill($('#result-list'), ...foldByDocument(data.results).map(({ hit, more }) => resultItem(hit, route, more)));
  renderPager(route, data);
  announce(data.results.length ? `${base}${range}` : $('#message').textContent);
  if (focus === 'results') $('#results-title').focus();
  else if (focus && focus.startsWith('facet:')) {
    const el = document.querySelector(`[data-focus-key="${CSS.escape(focus)}"]`);
    if (el) el.focus();
  }
}

function renderSimilarHead(source) {
  const head = $('#similar-head');
  const back = h('a', { href: backUrl() || '/', class: 'back-link', onclick: goBack }, t('back_to_results'));
  const what = source
    ? t('similar_to', { title: source.title, pages: pagesText(source.page_start, source.page_end, source.label_start, source.label_end) })
    : t('similar_title');
  fill(head, back, h('h2', { class: 'similar-title' }, what),
    source ? h('p', { class: 'similar-quote' }, source.text.length > 320 ? `${source.text.slice(0, 320)}…` : source.text) : null);
  head.hidden = false;
}

function backUrl() {
  return (history.state && history.state.back) || lastSearchUrl;
}

function goBack(event) {
  if (event) event.preventDefault();
  if (history.state && history.state.back) history.back();
  else navigate(lastSearchUrl ? readRoute(lastSearchUrl.split('?')[1] || '') : { ...current, view: 'home' });
}

function emptyState(route, data) {
  if (data.total > 0 && route.offset >= data.total) {
    return h('div', { class: 'state state-empty', role: 'status' },
      h('h2', {}, t('past_end_title')),
      h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => navigate({ ...route, offset: 0 }) }, t('first_page'))));
  }
  const filtered = hasFilters(route.filters);
  const title = route.view === 'similar' ? t('similar_none') : t('no_results_title', { q: route.q });
  return h('div', { class: 'state state-empty', role: 'status' },
    h('h2', {}, title),
    filtered
      ? [h('p', {}, t('no_results_filtered')),
        h('p', {}, h('button', { type: 'button', class: 'primary', onclick: () => clearFilters(route) }, t('clear_filters')))]
      : h('p', {}, t('no_results_hint')));
}

function clearFilters(route) {
  navigate({ ...route, filters: noFilters(), offset: 0 }, { focus: 'results' });
}

/** "Also in: <other documents with the same passage>", or null. */
function alsoInLine(hit) {
  return (hit.also_in || []).length
    ? h('p', { class: 'also-in' }, h('span', { class: 'label' }, t('also_in')), ' ',
      hit.also_in.map((a, i) => [i ? ', ' : '',
        h('a', { href: withPage(a.file_url, a.page_start), target: '_blank', rel: 'noopener' },
          a.year && !a.title.includes(String(a.year)) ? t('also_in_item', { title: a.title, year: String(a.year) }) : a.title,
          h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`))]))
    : null;
}

/** The passages folded under a document's first result: a summary with their pages, each passage on opening. */
function foldedPassages(hit, more) {
  if (!more.length) return null;
  const pages = pageRanges(more.map((m) => [m.page_start, m.page_end]));
  return h('details', { class: 'folded' },
    h('summary', {}, t('more_passages_here', { count: more.length, pages })),
    h('ol', { class: 'folded-list' }, more.map((m) => h('li', { class: 'folded-hit', value: m.rank },
      h('p', { class: 'folded-meta' },
        h('a', { href: fileLink(m.page_url), target: '_blank', rel: 'noopener', class: 'pages', 'data-chunk': m.chunk_id },
          pagesText(m.page_start, m.page_end, m.page_label, m.page_label ? undefined : null),
          h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)),
        sectionText(m.section, hit.title)
          ? [h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '), h('span', {}, sectionText(m.section, hit.title))]
          : null),
      h('p', { class: 'folded-snippet' }, snippetNodes(m.snippet)),
      alsoInLine(m)))));
}

/** "p. 4" as a button that shows the cited page with the passage highlighted, linking to the PDF at that page. */
function pagePreview(hit, pages, pageLink) {
  if (!/\.pdf$/i.test(hit.file || '')) return { toggle: h('span', { class: 'pages' }, pages), panel: null };
  const id = `preview-${hit.chunk_id}`;
  const panel = h('div', { class: 'preview', id, hidden: true });
  const toggle = h('button', {
    type: 'button', class: 'pages page-toggle', 'aria-expanded': 'false', 'aria-controls': id,
    title: t('preview_show', { pages }),
  }, pages, h('span', { class: 'visually-hidden' }, ` ${t('preview_show_hidden')}`));
  const close = () => { toggle.setAttribute('aria-expanded', 'false'); panel.hidden = true; toggle.focus(); };
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    if (open && !panel.firstChild) {
      const status = h('p', { class: 'preview-status', role: 'status' }, t('preview_loading'));
      const img = h('img', {
        src: previewUrl(hit.file_url, hit.page_start, { width: PREVIEW_WIDTH, chunk: hit.chunk_id }),
        alt: t('preview_alt', { pages, title: hit.title }), width: PREVIEW_WIDTH, class: 'preview-image',
        onload: () => status.remove(),
        onerror: () => { status.textContent = t('preview_unavailable'); img.remove(); },
      });
      fill(panel, h('figure', { class: 'preview-figure' },
        status,
        h('a', { href: pageLink, target: '_blank', rel: 'noopener', class: 'preview-link' }, img,
          h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)),
        h('figcaption', {},
          h('a', { href: pageLink, target: '_blank', rel: 'noopener', class: 'action' },
            t('open_at_page', { pages }), h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)),
          h('button', { type: 'button', class: 'action link-button', onclick: close }, t('preview_close')))));
    }
    panel.hidden = !open;
  });
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  return { toggle, panel };
}

function resultItem(hit, route, more = []) {
  const titleId = `r-${hit.chunk_id}`;
  const pageLink = fileLink(hit.page_url);
  const pages = pagesText(hit.page_start, hit.page_end, hit.page_label, hit.page_label ? undefined : null);
  const preview = pagePreview(hit, pages, pageLink);
  const meta = [
    hit.publisher, hit.year, valueLabel('doc_type', hit.doc_type), hit.language ? languageName(hit.language) : null,
  ].filter((v) => v !== null && v !== undefined && v !== '');
  const sens = hit.sensitivity && !isOpen(hit.sensitivity)
    ? h('span', { class: `badge badge-${hit.sensitivity}` }, valueLabel('sensitivity', hit.sensitivity)) : null;

  const alsoIn = alsoInLine(hit);
  const morePages = (hit.more_pages || []).length
    ? h('p', { class: 'more-pages' }, h('span', { class: 'label' }, t('more_pages')), ' ',
      hit.more_pages.map((m, i) => [i ? ' · ' : '',
        h('a', { href: withPage(hit.file_url, m.page_start), target: '_blank', rel: 'noopener', title: sectionText(m.section, hit.title) },
          pagesText(m.page_start, m.page_end))]))
    : null;

  return h('li', { class: 'result' },
    h('article', { 'aria-labelledby': titleId },
      h('h2', { class: 'result-title', id: titleId },
        h('a', { href: pageLink, target: '_blank', rel: 'noopener', class: 'result-link', 'data-chunk': hit.chunk_id },
          hit.title, h('span', { class: 'visually-hidden' }, ` (${pages}, ${t('opens_new_tab')})`))),
      h('p', { class: 'result-meta' },
        preview.toggle,
        meta.map((m) => [h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '), h('span', {}, String(m))]),
        sens ? [' ', sens] : null),
      sectionText(hit.section, hit.title)
        ? h('p', { class: 'result-section' }, sectionText(hit.section, hit.title), sectionSpan(hit))
        : null,
      hit.region && hit.region !== 'body' ? h('p', { class: 'result-region' }, t(`region_${hit.region}`)) : null,
      h('p', { class: 'snippet' }, snippetNodes(hit.snippet)),
      supersededNote(hit.superseded_by),
      preview.panel,
      alsoIn,
      morePages,
      foldedPassages(hit, more),
      h('p', { class: 'result-actions' },
        h('a', { href: pageLink, target: '_blank', rel: 'noopener', class: 'action' },
          t('open_at_page', { pages }), h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)),
        h('button', {
          type: 'button', class: 'action link-button', 'aria-describedby': titleId,
          onclick: () => navigate({ ...route, view: 'similar', chunk: String(hit.chunk_id), offset: 0 }, { focus: 'results' }),
        }, t('more_like_this')),
        h('a', {
          href: routeUrl({ view: 'doc', doc: hit.document_id, lang: current.lang }), 'data-nav': 'route', class: 'action',
          'aria-describedby': titleId,
        }, t('about_document')))));
}

function sectionSpan(hit) {
  const span = hit.section_pages;
  if (!span || (span[0] === hit.page_start && span[1] === hit.page_end) || span[0] === span[1]) return null;
  return [' · ', h('a', { href: withPage(hit.file_url, span[0]), target: '_blank', rel: 'noopener', class: 'section-span' },
    t('section_pages', { pages: pagesText(span[0], span[1]) }), h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`))];
}

function supersededNote(newer) {
  if (!newer) return null;
  return h('p', { class: 'superseded', role: 'note' }, t('superseded_by'), ' ',
    h('a', { href: routeUrl({ view: 'doc', doc: newer.document_id, lang: current.lang }), 'data-nav': 'route' },
      newer.year && !newer.title.includes(String(newer.year)) ? `${newer.title} (${newer.year})` : newer.title));
}

function renderPager(route, data) {
  const pager = $('#pager');
  if (data.total <= PAGE_SIZE && !route.offset) return;
  const prev = route.offset > 0;
  const next = data.offset + data.results.length < data.total;
  const page = Math.floor(route.offset / PAGE_SIZE) + 1;
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  fill(pager,
    h('button', {
      type: 'button', class: 'secondary', disabled: !prev,
      onclick: () => navigate({ ...route, offset: Math.max(0, route.offset - PAGE_SIZE) }, { focus: 'results' }),
    }, t('previous')),
    h('span', { class: 'pager-status' }, t(data.total_relation === 'gte' ? 'page_of_gte' : 'page_of', { page, pages })),
    h('button', {
      type: 'button', class: 'secondary', disabled: !next,
      onclick: () => navigate({ ...route, offset: route.offset + PAGE_SIZE }, { focus: 'results' }),
    }, t('next')));
}

// -- filters: chips and facets ---------------------------------------------------------------
function renderActiveFilters(route) {
  const f = route.filters;
  const chips = [];
  const remove = (patch) => navigate({ ...route, filters: { ...f, ...patch }, offset: 0 }, { focus: 'results' });
  const chip = (text, patch) => chips.push(h('button', {
    type: 'button', class: 'chip', 'aria-label': t('remove_filter', { filter: text }), onclick: () => remove(patch),
  }, text, h('span', { class: 'chip-x', 'aria-hidden': 'true' }, '×')));
  // The facets' filters, then those without a facet (from a shared link): shown and removable all the same.
  const listed = [
    ...FACETS.filter((facet) => facet.param !== 'year'),
    { param: 'document', label: 'filter_document', value: (v) => v },
    { param: 'sensitivity', label: 'meta_sensitivity', value: (v) => valueLabel('sensitivity', v) },
  ];
  for (const { param, label, value } of listed) {
    for (const v of f[param] || []) chip(`${t(label)}: ${value(v)}`, { [param]: f[param].filter((x) => x !== v) });
  }
  if (f.year_min || f.year_max) chip(`${t('facet_year')}: ${yearText(f)}`, { year_min: '', year_max: '' });
  const box = $('#active-filters');
  if (!chips.length) { fill(box); return; }
  fill(box, h('span', { class: 'label' }, t('active_filters')), ...chips,
    h('button', { type: 'button', class: 'link-button clear-all', onclick: () => clearFilters(route) }, t('clear_filters')));
}

function yearText(f) {
  if (f.year_min && f.year_min === f.year_max) return f.year_min;
  if (f.year_min && f.year_max) return t('year_between', { from: f.year_min, to: f.year_max });
  if (f.year_min) return t('year_from', { from: f.year_min });
  return t('year_to', { to: f.year_max });
}

function facetSignature(route, param) {
  const f = { ...route.filters };
  if (param === 'year') { f.year_min = ''; f.year_max = ''; } else f[param] = [];
  return JSON.stringify([route.view, route.q, route.mode, route.chunk, f]);
}

function isActive(route, param) {
  return param === 'year' ? Boolean(route.filters.year_min || route.filters.year_max) : (route.filters[param] || []).length > 0;
}

function renderFacets(route, data) {
  const groups = [];
  const facets = data.facets || {};
  // Remember each facet's counts while it is not filtered, so that choosing one value still lists
  // the others (OR within a facet) with the counts they would add.
  for (const facet of FACETS) {
    if (!isActive(route, facet.param)) facetMemory.set(facet.field, { sig: facetSignature(route, facet.param), counts: facets[facet.field] || {} });
  }
  let active = 0;
  for (const facet of FACETS) {
    const on = isActive(route, facet.param);
    if (on) active += facet.param === 'year' ? 1 : route.filters[facet.param].length;
    const mem = facetMemory.get(facet.field);
    const counts = { ...((on && mem && mem.sig === facetSignature(route, facet.param)) ? mem.counts : facets[facet.field] || {}) };
    if (facet.param === 'year') {
      const g = yearFacet(route, counts);
      if (g) groups.push(g);
    } else {
      for (const v of route.filters[facet.param] || []) if (!(v in counts)) counts[v] = (facets[facet.field] || {})[v] || 0;
      const g = valueFacet(route, facet, counts);
      if (g) groups.push(g);
    }
  }
  if (route.filters.current) active += 1;
  $('#facet-count').textContent = active ? t('facets_active', { count: active }) : '';
  showFacets(true);
  fill($('#facet-groups'), currentEditionsToggle(route), ...(groups.length ? groups : [h('p', { class: 'hint' }, t('facets_none'))]));
}

function currentEditionsToggle(route) {
  return h('p', { class: 'facet-toggle' },
    h('input', {
      type: 'checkbox', id: 'filter-current', checked: route.filters.current,
      onchange: (e) => navigate({ ...route, filters: { ...route.filters, current: e.target.checked }, offset: 0 }, { focus: 'filter-current' }),
    }),
    ' ', h('label', { for: 'filter-current' }, t('current_editions_only')));
}

function valueFacet(route, facet, counts) {
  const entries = Object.entries(counts).filter(([v]) => !UNSPECIFIED.has(v));
  if (!entries.length) return null;
  entries.sort((a, b) => b[1] - a[1] || facet.value(a[0]).localeCompare(facet.value(b[0]), uiLang()));
  const selected = new Set(route.filters[facet.param] || []);
  const id = `facet-${facet.param}`;
  const items = entries.map(([v, n], i) => {
    const key = `facet:${facet.param}:${v}`;
    const inputId = `${id}-${i}`;
    return h('li', { class: i >= FACET_VISIBLE && !selected.has(v) ? 'facet-extra' : null },
      h('input', {
        type: 'checkbox', id: inputId, checked: selected.has(v), 'data-focus-key': key,
        onchange: (e) => {
          const values = e.target.checked ? [...selected, v] : [...selected].filter((x) => x !== v);
          navigate({ ...route, filters: { ...route.filters, [facet.param]: values }, offset: 0 }, { focus: key });
        },
      }),
      h('label', { for: inputId },
        h('span', { class: 'facet-value' }, facet.value(v)),
        h('span', { class: 'facet-n' }, h('span', { class: 'visually-hidden' }, ', '), t('facet_count', { count: n }))));
  });
  const list = h('ul', { class: 'facet-list', id: `${id}-list` }, items);
  const extra = items.filter((li) => li.classList.contains('facet-extra')).length;
  const more = extra
    ? h('button', {
      type: 'button', class: 'link-button facet-more', 'aria-expanded': 'false', 'aria-controls': `${id}-list`,
      onclick: (e) => {
        const open = list.classList.toggle('show-all');
        e.target.setAttribute('aria-expanded', String(open));
        e.target.textContent = open ? t('show_fewer') : t('show_more', { count: extra });
      },
    }, t('show_more', { count: extra }))
    : null;
  return h('fieldset', { class: 'facet' }, h('legend', {}, t(facet.label)), list, more);
}

function yearFacet(route, counts) {
  const f = route.filters;
  const single = f.year_min && f.year_min === f.year_max ? f.year_min : null;
  const entries = Object.entries(counts).filter(([v]) => !UNSPECIFIED.has(v)).sort((a, b) => Number(b[0]) - Number(a[0]));
  if (single && !counts[single]) entries.unshift([single, 0]);
  const items = entries.map(([v, n], i) => {
    const key = `facet:year:${v}`;
    const inputId = `facet-year-${i}`;
    return h('li', {},
      h('input', {
        type: 'checkbox', id: inputId, checked: single === v, 'data-focus-key': key,
        onchange: (e) => {
          const y = e.target.checked ? v : '';
          navigate({ ...route, filters: { ...f, year_min: y, year_max: y }, offset: 0 }, { focus: key });
        },
      }),
      h('label', { for: inputId }, h('span', { class: 'facet-value' }, v),
        h('span', { class: 'facet-n' }, h('span', { class: 'visually-hidden' }, ', '), t('facet_count', { count: n }))));
  });
  const from = h('input', { type: 'number', id: 'year-from', inputmode: 'numeric', min: 1800, max: 2200, value: f.year_min || '' });
  const to = h('input', { type: 'number', id: 'year-to', inputmode: 'numeric', min: 1800, max: 2200, value: f.year_max || '' });
  const range = h('form', {
    class: 'year-range',
    onsubmit: (e) => {
      e.preventDefault();
      navigate({ ...route, filters: { ...f, year_min: from.value.trim(), year_max: to.value.trim() }, offset: 0 }, { focus: 'results' });
    },
  },
  h('span', { class: 'year-range-label' }, t('year_range_label')),
  h('label', { for: 'year-from' }, t('year_range_from')), from,
  h('label', { for: 'year-to' }, t('year_range_to')), to,
  h('button', { type: 'submit', class: 'secondary small' }, t('apply')));
  if (!items.length && !f.year_min && !f.year_max) return null;
  return h('fieldset', { class: 'facet' }, h('legend', {}, t('facet_year')),
    items.length ? h('ul', { class: 'facet-list' }, items) : null, range);
}

// ---------------------------------------------------------------------------------------------
// Document page
// ---------------------------------------------------------------------------------------------
async function renderDocument(route, focus) {
  const view = $('#view-doc');
  view.setAttribute('aria-busy', 'true');
  const back = h('p', { class: 'crumbs' }, h('a', { href: backUrl() || '/', class: 'back-link', onclick: goBack },
    lastSearchUrl ? t('back_to_results') : t('back_to_search')));
  const id = encodeURIComponent(route.doc);
  let doc;
  let chunks;
  try {
    const params = new URLSearchParams({ offset: route.offset || 0, limit: CHUNK_PAGE });
    [doc, chunks] = await Promise.all([api(`documents/${id}`), api(`documents/${id}/chunks`, { params })]);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    if (err.authRejected) { render(readRoute()); return; }
    view.removeAttribute('aria-busy');
    view.setAttribute('aria-labelledby', 'doc-title');
    fill(view, back, h('h1', { id: 'doc-title', tabindex: '-1' }, t('doc_unavailable')),
      h('div', { class: 'state state-error', role: 'alert' },
        h('p', {}, err.status === 404 ? t('doc_not_found') : t('error_title')),
        h('p', { class: 'api-message' }, err.detail)));
    $('#doc-title').focus();
    return;
  }
  document.title = t('title_doc', { title: doc.title, app: t('app_name') });
  const labels = new Map((doc.page_list || []).map((p) => [p.number, p.label]));
  const pagesFor = (a, b) => pagesText(a, b, labels.get(a), labels.get(b));
  const inferred = new Set(doc.inferred || []);
  const metaRow = (label, value, field) => (value === null || value === undefined || value === '' ? null : [
    h('dt', {}, t(label)),
    h('dd', {}, value, inferred.has(field) ? h('span', { class: 'inferred' }, ` ${t('inferred')}`) : null)]);
  const fileHref = fileLink(doc.file_url);
  const isPdf = doc.kind === 'pdf';

  const toc = (doc.toc || []).length
    ? h('nav', { class: 'toc', 'aria-labelledby': 'toc-title' },
      h('h2', { id: 'toc-title' }, t('toc_title')),
      h('ol', { class: 'toc-list' }, doc.toc.map((e) => h('li', { class: `toc-l${Math.min(e.level, 4)}` },
        h('a', { href: withPage(doc.file_url, e.page), target: '_blank', rel: 'noopener' },
          h('span', { class: 'toc-text' }, e.title),
          h('span', { class: 'toc-page' }, pagesFor(e.page, e.page)),
          h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`))))))
    : h('nav', { class: 'toc', 'aria-labelledby': 'toc-title' }, h('h2', { id: 'toc-title' }, t('toc_title')),
      h('p', { class: 'hint' }, t('toc_none')));

  const from = chunks.items.length ? chunks.offset + 1 : 0;
  const to = chunks.offset + chunks.items.length;
  const chunkList = h('ol', { class: 'chunk-list', start: from || 1 }, chunks.items.map((c) => h('li', { class: 'chunk' },
    h('p', { class: 'chunk-head' },
      h('a', { href: fileLink(c.page_url), target: '_blank', rel: 'noopener', class: 'chunk-page' },
        pagesText(c.page_start, c.page_end, c.label_start, c.label_end),
        h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)),
      sectionText(c.section, doc.title) ? h('span', { class: 'chunk-section' }, sectionText(c.section, doc.title)) : null),
    h('p', { class: 'chunk-text' }, (c.overlap ? '…' : '') + c.text.slice(c.overlap || 0).trimStart()))));
  const pager = chunks.total > CHUNK_PAGE
    ? h('nav', { class: 'pager', 'aria-label': t('chunk_pager_label') },
      h('button', {
        type: 'button', class: 'secondary', disabled: chunks.offset <= 0,
        onclick: () => navigate({ ...route, offset: Math.max(0, chunks.offset - CHUNK_PAGE) }, { focus: 'chunks' }),
      }, t('previous')),
      h('span', { class: 'pager-status' }, t('chunks_range', { from, to, count: chunks.total })),
      h('button', {
        type: 'button', class: 'secondary', disabled: to >= chunks.total,
        onclick: () => navigate({ ...route, offset: chunks.offset + CHUNK_PAGE }, { focus: 'chunks' }),
      }, t('next')))
    : null;

  view.removeAttribute('aria-busy');
  view.setAttribute('aria-labelledby', 'doc-title');
  fill(view,
    back,
    h('header', { class: 'doc-head' },
      h('p', { class: 'eyebrow' }, valueLabel('doc_type', doc.doc_type),
        !isOpen(doc.sensitivity) ? [' ', h('span', { class: `badge badge-${doc.sensitivity}` }, valueLabel('sensitivity', doc.sensitivity))] : null),
      h('h1', { id: 'doc-title', tabindex: '-1' }, doc.title),
      supersededNote(doc.superseded_by),
      h('p', { class: 'doc-actions' },
        h('a', { href: fileHref, target: '_blank', rel: 'noopener', class: 'button primary' },
          isPdf ? t('open_original_pdf') : t('open_original'), h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)))),
    h('dl', { class: 'doc-meta' },
      metaRow('meta_publisher', doc.publisher, 'publisher'),
      metaRow('meta_year', doc.year, 'year'),
      metaRow('meta_type', valueLabel('doc_type', doc.doc_type), 'doc_type'),
      metaRow('meta_language', doc.language ? languageName(doc.language) : null, 'language'),
      metaRow('meta_areas', (doc.areas || []).map((a) => valueLabel('area', a)).join(', '), 'areas'),
      metaRow('meta_sensitivity', valueLabel('sensitivity', doc.sensitivity), 'sensitivity'),
      metaRow('meta_pages', doc.pages, 'pages'),
      metaRow('meta_passages', doc.chunk_count, 'chunk_count'),
      metaRow('meta_file', doc.source_name, 'source_name'),
      metaRow('meta_added', doc.created_at ? formatDate(doc.created_at) : null, 'created_at')),
    (doc.warnings || []).length
      ? h('div', { class: 'state state-weak' }, h('h2', {}, t('doc_warnings')), h('ul', {}, doc.warnings.map((w) => h('li', {}, w))))
      : null,
    isPdf && (doc.page_list || []).length ? pageThumbnails(doc, pagesFor) : null,
    h('div', { class: 'doc-grid' },
      toc,
      h('section', { class: 'chunks', 'aria-labelledby': 'chunks-title' },
        h('h2', { id: 'chunks-title', tabindex: '-1' }, t('chunks_title')),
        h('p', { class: 'summary' }, t('chunks_range', { from, to, count: chunks.total })),
        chunkList,
        pager)));
  if (focus === 'chunks') $('#chunks-title').focus();
  else $('#doc-title').focus();
  announce(doc.title);
}

/** The document's pages as thumbnails, each opening the PDF at its page (the first pages, then all on request). */
function pageThumbnails(doc, pagesFor) {
  const item = (p) => h('li', { class: 'thumb' },
    h('a', { href: withPage(doc.file_url, p.number), target: '_blank', rel: 'noopener' },
      h('img', {
        src: previewUrl(doc.file_url, p.number, { width: THUMB_WIDTH }), loading: 'lazy', width: THUMB_WIDTH / 2,
        alt: '', class: 'thumb-image',
      }),
      h('span', { class: 'thumb-label' }, pagesFor(p.number, p.number)),
      h('span', { class: 'visually-hidden' }, ` ${t('opens_new_tab')}`)));
  const list = h('ol', { class: 'thumb-list' }, doc.page_list.slice(0, THUMBS_FIRST).map(item));
  const rest = doc.page_list.length - THUMBS_FIRST;
  const more = rest > 0 ? h('button', {
    type: 'button', class: 'secondary thumbs-more',
    onclick: (e) => { list.append(...doc.page_list.slice(THUMBS_FIRST).map(item)); e.currentTarget.remove(); },
  }, t('thumbs_show_all', { count: doc.page_list.length })) : null;
  return h('section', { class: 'thumbs', 'aria-labelledby': 'thumbs-title' },
    h('h2', { id: 'thumbs-title' }, t('thumbs_title')), list, more);
}

// ---------------------------------------------------------------------------------------------
// Upload (contributors)
// ---------------------------------------------------------------------------------------------
let activeJob = null; // {id, files, job, error}
let jobSeq = 0;

function renderUpload() {
  const view = $('#view-upload');
  document.title = t('title_upload', { app: t('app_name') });
  const head = [h('h1', { id: 'upload-title', tabindex: '-1' }, t('upload_title')), h('p', { class: 'lead' }, t('upload_intro'))];
  view.setAttribute('aria-labelledby', 'upload-title');
  if (!auth.key()) {
    fill(view, ...head, h('div', { class: 'state state-empty' },
      h('p', {}, t('upload_sign_in_first')),
      h('p', {}, h('button', { type: 'button', class: 'primary', onclick: openSignIn }, t('sign_in')))));
    $('#upload-title').focus();
    return;
  }
  const field = (name, label, control, hint) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `up-${name}` }, t(label)),
    hint ? h('p', { class: 'hint', id: `up-${name}-hint` }, t(hint)) : null,
    control,
    h('p', { class: 'field-error', id: `up-${name}-error` }));
  const described = (name, hint) => [hint ? `up-${name}-hint` : null, `up-${name}-error`].filter(Boolean).join(' ');
  const select = (name, options, hint, first) => h('select', { id: `up-${name}`, name, 'aria-describedby': described(name, hint) },
    first ? h('option', { value: '' }, t(first)) : null,
    options.map(([v, text]) => h('option', { value: v }, text)));

  const form = h('form', { id: 'upload-form', class: 'upload-form', novalidate: true, onsubmit: submitUpload },
    field('files', 'upload_files', h('input', {
      type: 'file', id: 'up-files', name: 'files', multiple: true, accept: 'application/pdf,.pdf',
      'aria-describedby': described('files', 'upload_files_hint'),
    }), 'upload_files_hint'),
    h('fieldset', { class: 'meta-fields' },
      h('legend', {}, t('upload_metadata')),
      h('p', { class: 'hint' }, t('upload_metadata_hint')),
      h('div', { class: 'field-grid' },
        field('title', 'meta_title', h('input', { type: 'text', id: 'up-title', name: 'title', maxlength: 500, 'aria-describedby': described('title') })),
        field('publisher', 'meta_publisher', h('input', { type: 'text', id: 'up-publisher', name: 'publisher', maxlength: 500, 'aria-describedby': described('publisher') })),
        field('year', 'meta_year', h('input', {
          type: 'text', id: 'up-year', name: 'year', inputmode: 'numeric', maxlength: 4, pattern: '[0-9]{4}', autocomplete: 'off',
          'aria-describedby': described('year'),
        })),
        field('type', 'meta_type', select('type', VOCABULARY.doc_types.map((v) => [v, valueLabel('doc_type', v)]), null, 'detect_automatically')),
        field('language', 'meta_language', select('language', UPLOAD_LANGUAGES.map((v) => [v, `${languageName(v)} (${v})`]), null, 'detect_automatically')),
        // no preselected level: the uploader must choose one (the API refuses an upload without it)
        field('sensitivity', 'meta_sensitivity', select('sensitivity', allowedSensitivities().map((v) => [v, valueLabel('sensitivity', v)]), 'upload_sensitivity_hint', 'choose_sensitivity'), 'upload_sensitivity_hint')),
      h('fieldset', { class: 'areas', 'data-field': 'area', 'aria-describedby': 'up-area-error' },
        h('legend', {}, t('meta_areas')),
        h('div', { class: 'area-grid' }, VOCABULARY.areas.map((a, i) => h('span', { class: 'check' },
          h('input', { type: 'checkbox', name: 'area', value: a, id: `up-area-${i}` }),
          h('label', { for: `up-area-${i}` }, valueLabel('area', a))))),
        h('p', { class: 'field-error', id: 'up-area-error' }))),
    h('div', { id: 'upload-error', class: 'form-error', role: 'alert' }),
    h('p', { class: 'form-buttons' }, h('button', { type: 'submit', class: 'primary', id: 'upload-submit' }, t('upload_button'))));

  fill(view, ...head, form, h('section', { id: 'job', class: 'job', 'aria-live': 'polite' }));
  if (activeJob) renderJob();
  $('#upload-title').focus();
}

function clearUploadErrors() {
  for (const el of document.querySelectorAll('#upload-form .field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('#upload-form [aria-invalid]')) el.removeAttribute('aria-invalid');
  fill($('#upload-error'));
}

function showUploadError(err) {
  const box = $('#upload-error');
  const fields = [];
  for (const e of err.errors || []) {
    const name = String(e.field || '').replace(/\[\d+\]$/, '').replace(/^file$/, 'files').replace(/^(doc_type)$/, 'type').replace(/^areas$/, 'area');
    const msgEl = document.getElementById(`up-${name}-error`);
    if (msgEl) {
      msgEl.textContent = e.message;
      const input = document.getElementById(`up-${name}`) || document.querySelector(`#upload-form [data-field="${name}"]`);
      if (input) input.setAttribute('aria-invalid', 'true');
      fields.push(name);
    }
  }
  fill(box, h('div', { class: 'state state-error' },
    h('h2', {}, t('upload_refused')),
    h('p', { class: 'api-message' }, err.detail)));
  const first = fields.length && (document.getElementById(`up-${fields[0]}`) || document.querySelector('#upload-form [name="area"]'));
  if (first && first.focus) first.focus();
}

async function submitUpload(event) {
  event.preventDefault();
  clearUploadErrors();
  const form = event.target;
  const files = $('#up-files').files;
  if (!files.length) {
    showUploadError(new ApiError(0, t('upload_no_files'), [{ field: 'files', message: t('upload_no_files') }]));
    return;
  }
  if (!form.elements.sensitivity.value) {
    showUploadError(new ApiError(0, t('upload_no_sensitivity'), [{ field: 'sensitivity', message: t('upload_no_sensitivity') }]));
    return;
  }
  const body = new FormData();
  for (const f of files) body.append('files', f, f.name);
  for (const name of UPLOAD_FIELDS) {
    const v = form.elements[name].value.trim();
    if (v) body.append(name, v);
  }
  for (const cb of form.querySelectorAll('input[name="area"]:checked')) body.append('area', cb.value);
  const button = $('#upload-submit');
  button.disabled = true;
  button.textContent = t('uploading');
  try {
    const res = await api('documents', { method: 'POST', body, signal: null });
    activeJob = { id: res.job_id, files: res.files || [...files].map((f) => f.name), job: { status: res.status || 'queued', files: [] } };
    form.reset();
    renderJob();
    pollJob(activeJob);
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (err.status === 401 && !auth.key()) { renderUpload(); return; }
    showUploadError(err);
  } finally {
    if (button.isConnected) {
      button.disabled = false;
      button.textContent = t('upload_button');
    }
  }
}

async function pollJob(job) {
  const seq = ++jobSeq;
  while (seq === jobSeq && activeJob === job) {
    try {
      job.job = await api(`jobs/${encodeURIComponent(job.id)}`, { signal: null });
      job.error = null;
    } catch (err) {
      job.error = err.detail;
      if (err.status === 401 || err.status === 403 || err.status === 404) { renderJob(); return; }
    }
    renderJob();
    if (job.job && (job.job.status === 'done' || job.job.status === 'failed')) {
      announce(t(`job_status.${job.job.status}`));
      return;
    }
    await sleep(JOB_POLL_MS);
  }
}

function renderJob() {
  const box = document.getElementById('job');
  if (!box || !activeJob) return;
  const { job } = activeJob;
  const status = job.status || 'queued';
  const finished = status === 'done' || status === 'failed';
  const files = job.files && job.files.length ? job.files : activeJob.files.map((f) => ({ file: f, status: 'queued' }));
  const counts = {};
  for (const f of files) counts[f.status] = (counts[f.status] || 0) + 1;
  const rows = files.map((f) => {
    let detail = null;
    if (f.status === 'indexed' || f.status === 'duplicate') {
      detail = [f.status === 'indexed' && f.chunks != null ? t('job_chunks', { count: f.chunks }) : null,
        f.document_id ? h('a', { href: routeUrl({ view: 'doc', doc: f.document_id, lang: current.lang }), 'data-nav': 'route' },
          t('view_document')) : null,
        f.not_applied && f.not_applied.length ? t('job_not_applied', { fields: f.not_applied.join(', ') }) : null,
      ].filter(Boolean).flatMap((x, i) => (i ? [' · ', x] : [x]));
    }
    if (f.status === 'failed') detail = h('span', { class: 'file-error' }, f.error || t('job_failed_unknown'));
    return h('tr', { class: `file-${f.status}` },
      h('th', { scope: 'row' }, f.file),
      h('td', {}, h('span', { class: `status status-${f.status}` }, t(`file_status.${f.status}`))),
      h('td', {}, detail));
  });
  box.setAttribute('aria-labelledby', 'job-title');
  fill(box,
    h('h2', { id: 'job-title' }, t('job_title')),
    h('p', { class: `job-status status-${status}` },
      finished ? null : h('span', { class: 'spinner small', 'aria-hidden': 'true' }),
      h('strong', {}, t(`job_status.${status}`)),
      finished ? ` — ${t('job_summary', {
        indexed: counts.indexed || 0, duplicate: counts.duplicate || 0, failed: counts.failed || 0,
      })}` : null),
    activeJob.error ? h('p', { class: 'field-error', role: 'alert' }, activeJob.error) : null,
    h('table', { class: 'job-files' },
      h('caption', { class: 'visually-hidden' }, t('job_files_caption')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('job_col_file')), h('th', { scope: 'col' }, t('job_col_status')),
        h('th', { scope: 'col' }, t('job_col_detail')))),
      h('tbody', {}, rows)));
}

// ---------------------------------------------------------------------------------------------
// Sign in / sign out
// ---------------------------------------------------------------------------------------------
/** Sensitivity labels the signed-in key may give a document (up to its clearance). */
function allowedSensitivities() {
  const me = auth.me();
  const levels = VOCABULARY.sensitivities;
  return me ? levels.slice(0, levels.indexOf(me.clearance) + 1) : levels;
}

function updateAccount() {
  const signed = Boolean(auth.key());
  const me = auth.me();
  $('#signed-in').hidden = !signed;
  $('#signed-in-label').textContent = signed && me
    ? t('signed_in_as', { name: me.name, role: valueLabel('role', me.role), clearance: valueLabel('sensitivity', me.clearance) })
    : t('signed_in');
  $('#anon-note').hidden = signed;
  $('#upload-link').hidden = !(signed && (!me || me.can_upload));
  $('#sign-in-btn').hidden = signed;
  $('#sign-out-btn').hidden = !signed;
}

/** Nothing seen under one identity survives a change of identity. */
function authChanged() {
  abortPending();
  requestSeq += 1;
  jobSeq += 1;
  activeJob = null;
  facetMemory.clear();
  clearResults();
  fill($('#facet-groups'));
  fill($('#view-doc'));
  updateAccount();
}

function openSignIn() {
  const dlg = $('#signin-dialog');
  $('#signin-error').textContent = '';
  $('#signin-key').value = '';
  $('#signin-key').removeAttribute('aria-invalid');
  dlg.showModal();
  $('#signin-key').focus();
}

async function submitSignIn(event) {
  event.preventDefault();
  const input = $('#signin-key');
  const key = input.value.trim();
  const error = $('#signin-error');
  error.textContent = '';
  if (!key) {
    error.textContent = t('signin_empty');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  const button = event.target.querySelector('button[type="submit"]');
  button.disabled = true;
  let me;
  try {
    me = await api('me', { key, signal: null });
  } catch (err) {
    button.disabled = false;
    error.textContent = err.status === 401 ? t('signin_rejected', { detail: err.detail }) : err.detail;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  button.disabled = false;
  input.value = '';
  $('#signin-dialog').close();
  notify('auth', null);
  auth.set(key, me);
  announce(t('signed_in_announce'));
  await render(readRoute());
  $('#sign-out-btn').focus();
}

function signOut() {
  auth.clear();
  notify('auth', t('signed_out'), 'info');
  render(readRoute());
  $('#sign-in-btn').focus();
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------
let typingTimer = null;

function searchFromForm({ typed }) {
  const q = $('#q').value;
  if (!q.trim()) {
    if (current.view === 'search') navigate({ ...current, view: 'home', q: '', offset: 0 }, { replace: typed });
    return;
  }
  const base = current.view === 'search' || current.view === 'similar' ? current : { ...current, filters: noFilters() };
  const route = {
    ...base, view: 'search', q, mode: $('#mode').value, group: $('#group').checked, offset: 0,
  };
  navigate(route, { replace: typed && current.view === 'search' });
}

function wire() {
  const q = $('#q');
  q.addEventListener('input', () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      if (q.value.trim().length >= MIN_TYPED || !q.value.trim()) searchFromForm({ typed: true });
    }, DEBOUNCE_MS);
  });
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(typingTimer);
    searchFromForm({ typed: false });
  });
  for (const id of ['#mode', '#group']) {
    $(id).addEventListener('change', () => { if ($('#q').value.trim()) searchFromForm({ typed: false }); });
  }
  // In-page links: keep the single page, push history.
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-nav]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    const url = new URL(a.href);
    navigate(readRoute(url.search));
  });
  window.addEventListener('popstate', () => render(readRoute()));
  $('#sign-in-btn').addEventListener('click', openSignIn);
  $('#sign-out-btn').addEventListener('click', signOut);
  $('#signin-form').addEventListener('submit', submitSignIn);
  $('#signin-cancel').addEventListener('click', () => $('#signin-dialog').close());
  $('#signin-dialog').addEventListener('close', () => {
    if (!auth.key()) $('#sign-in-btn').focus();
  });
  // Facets: a sidebar on wide screens, a collapsed panel above the results on narrow ones.
  const wide = window.matchMedia('(min-width: 56rem)');
  const summary = $('#facet-panel > summary');
  const place = () => {
    $('#facet-panel').open = wide.matches;
    summary.tabIndex = wide.matches ? -1 : 0;
  };
  summary.addEventListener('click', (e) => { if (wide.matches) e.preventDefault(); });
  wide.addEventListener('change', place);
  place();
  // Skip links move focus, not just the scroll position.
  for (const a of document.querySelectorAll('.skip-link')) {
    a.addEventListener('click', (e) => {
      const target = document.querySelector(a.getAttribute('href'));
      if (!target) return;
      e.preventDefault();
      const el = target.id === 'results' && target.closest('[hidden]') ? $('#main') : target;
      el.focus();
      el.scrollIntoView({ block: 'start' });
    });
  }
}

/** Load the accepted values (document types, areas, sensitivity labels, modes) from the server. */
async function loadVocabulary() {
  const res = await fetch(apiUrl('vocabulary'), { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /vocabulary: ${res.status}`);
  Object.assign(VOCABULARY, await res.json());
}

async function main() {
  const vocabulary = loadVocabulary().catch((err) => console.error('pactkb: cannot load the vocabulary', err));
  try {
    await loadStrings();
  } catch (err) {
    console.error('pactkb: cannot load interface strings', err);
  }
  await vocabulary;
  applyStaticStrings();
  updateAccount();
  wire();
  document.body.classList.remove('is-loading');
  window.pactkb = { STRINGS, lang: uiLang() };
  await checkReady();
  current = readRoute();
  if (current.view === 'doc' || current.view === 'similar') history.replaceState({ back: null }, '', location.href);
  await render(current);
  document.body.dataset.ready = 'true';
}

main();
