"""A cross-lingual bridge for lexical search: query words in the users' languages → English words of the corpus.

BM25 cannot match "krijumčarenje" with "smuggling". pactkb keeps the vocabulary of the corpus' English documents (words
in at least `MIN_DF` chunks, with their chunk counts, in <data>/index/bridge-*.npz, refreshed after every write,
deletion and relabelling; a multilingual encoder also embeds each word once) and translates a query in another language
word by word:
- through a bilingual dictionary where one covers the language (index/dictionary.py: Debian's FreeDict Croatian and
  Serbian dictionaries, a team glossary), phrases first ("pranja novca" → "money laundering"); of an entry's
  translations those made of corpus words are kept: the two closest to the query's vector with a multilingual
  encoder, the two most common in the corpus with an English-only one;
- with a multilingual encoder, a word no dictionary knows goes to its nearest English corpus word, when the two are
  close enough (cosine).
Where Apertium serves the language (sr/hr/bs/mk), it translates the query first (index/translate.py: team glossary,
then Apertium) and the bridge only fills the words it left untranslated.
The English words then run as another BM25 query; when a dictionary translated part of the query, the encoder also
searches for the English rendering. Both lists are fused with the others (index/hybrid.py).

Non-interference: the words a translation may use, and their counts, are kept per clearance level, counted only over
the documents at or below that level. A caller's translation (shown as `query_translation`) is therefore the same
whether or not documents above their clearance exist: a word found only in a confidential document is never a
public caller's translation. (Not filtering translations by the corpus at all would also be safe, but the corpus filter
is what makes dictionary translations precise, and the nearest-word path needs a vocabulary.)
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pactkb.atomic import temp_beside
from pactkb.index.dictionary import WORD, Match, dictionary_dirs, dictionary_for, has_dictionaries
from pactkb.index.embed import is_multilingual
from pactkb.index.encoder import Encoder
from pactkb.index.fold import STOPWORDS, fold
from pactkb.index.store import Store
from pactkb.index.translate import Translator, available, preferred
from pactkb.settings import SENSITIVITY_LEVELS, Settings

MIN_DF = 3
ENGLISH_WORD = re.compile(r"[a-z][a-z\-]{2,}")
QUERY_WORD = re.compile(r"\w{3,}", re.UNICODE)
# The query's own vector as a translation's context: given, computed only if a translation needs it, or absent.
Context = np.ndarray | Callable[[], np.ndarray] | None


def bridge_wanted(settings: Settings, encoder_name: str) -> bool:
    """Whether a store keeps a bridge: when switched on, for a multilingual encoder or when dictionaries or Apertium
    are installed."""
    return settings.bridge and (
        is_multilingual(encoder_name) or has_dictionaries(dictionary_dirs(settings)) or available(settings.apertium)
    )


def bridge_path(store: Store, encoder_name: str) -> Path:
    """Where the bridge of a store and encoder is kept."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", encoder_name).strip("-")
    return store.data_dir / "index" / f"bridge-{slug}.npz"


def level_counts(store: Store) -> dict[str, list[int]]:
    """For each word of the English documents, the chunks holding it at or below each clearance level (public,
    restricted, confidential: counts of what a caller of that clearance may see)."""
    per_level: dict[str, Counter[str]] = {level: Counter() for level in SENSITIVITY_LEVELS}
    for text, sensitivity in store.texts_by_sensitivity("en"):
        per_level[sensitivity].update(set(ENGLISH_WORD.findall(text.lower())))
    out: dict[str, list[int]] = {}
    for n, level in enumerate(SENSITIVITY_LEVELS):
        for word, count in per_level[level].items():
            out.setdefault(word, [0] * len(SENSITIVITY_LEVELS))[n] = count
    for counts in out.values():
        for n in range(1, len(counts)):
            counts[n] += counts[n - 1]
    return out


def english_vocabulary(store: Store, min_df: int = MIN_DF, clearance: str | None = None) -> dict[str, int]:
    """Words of the English documents a caller of this clearance may see (None: all) that appear in at least min_df
    of those chunks, sorted, with their chunk counts."""
    level = SENSITIVITY_LEVELS.index(clearance) if clearance else len(SENSITIVITY_LEVELS) - 1
    counts = level_counts(store)
    return {w: counts[w][level] for w in sorted(counts) if counts[w][level] >= min_df and w not in STOPWORDS}


def update_bridge(store: Store, encoder: Encoder, batch: int = 256) -> dict[str, int]:
    """Save the English vocabulary with its chunk counts; a multilingual encoder also embeds the words the saved
    bridge lacks (all of them the first time). Returns counts."""
    path = bridge_path(store, encoder.name)
    words, vecs, counts = load_arrays(path)
    by_level = level_counts(store)
    vocab = {w: by_level[w][-1] for w in sorted(by_level) if by_level[w][-1] >= MIN_DF and w not in STOPWORDS}
    levels = np.array([by_level[w] for w in vocab], dtype=np.int64).reshape(len(vocab), len(SENSITIVITY_LEVELS))
    saved = load_levels(path, len(words))
    if list(vocab) == words and list(vocab.values()) == counts and np.array_equal(saved, levels):
        return {"words": len(words), "embedded": 0}
    new: list[str] = []
    if is_multilingual(encoder.name):
        known = dict(zip(words, range(len(words)), strict=False))
        new = [w for w in vocab if w not in known]
        kept = [w for w in vocab if w in known]
        parts = [vecs[[known[w] for w in kept]]] if kept else []
        parts += [encoder.encode_queries(new[i : i + batch]) for i in range(0, len(new), batch)]
        vecs = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
        order = {w: i for i, w in enumerate(kept + new)}
        vecs = vecs[[order[w] for w in vocab]] if len(vocab) else vecs
    else:  # an English-only encoder cannot compare other languages' words: the vocabulary and counts serve dictionaries
        vecs = np.zeros((len(vocab), 0), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path, ".tmp.npz")  # unique: concurrent writers never share a temporary file
    try:
        np.savez(
            tmp,
            words=np.array(list(vocab), dtype=object),
            vectors=vecs,
            df=np.array(list(vocab.values()), dtype=np.int64),
            df_levels=levels,
        )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {"words": len(vocab), "embedded": len(new)}


def load_arrays(path: Path) -> tuple[list[str], np.ndarray, list[int]]:
    """The words, vectors and chunk counts of a saved bridge (empty if there is none)."""
    if not path.exists():
        return [], np.zeros((0, 0), dtype=np.float32), []
    with np.load(path, allow_pickle=True) as z:
        words = [str(w) for w in z["words"]]
        df = [int(n) for n in z["df"]] if "df" in z.files else [MIN_DF] * len(words)
        return words, np.ascontiguousarray(z["vectors"], dtype=np.float32), df


def load_levels(path: Path, n_words: int) -> np.ndarray:
    """Chunk counts per word and clearance level (n_words × levels) of a saved bridge. A bridge saved before levels
    were kept counts every word at the top level only (fail closed: lower clearances get no words from it)."""
    out = np.zeros((n_words, len(SENSITIVITY_LEVELS)), dtype=np.int64)
    if path.exists():
        with np.load(path, allow_pickle=True) as z:
            if "df_levels" in z.files and z["df_levels"].shape == out.shape:
                return np.asarray(z["df_levels"], dtype=np.int64)
            if "df" in z.files and len(z["df"]) == n_words:
                out[:, -1] = z["df"]
    return out


@dataclass(frozen=True)
class Vocabulary:
    """The corpus words a caller of one clearance level may be given: positions in the bridge and chunk counts."""

    index: dict[str, int]
    df: np.ndarray  # chunk count of every bridge word at this level (0 for words this level does not have)
    allowed: np.ndarray  # bool mask over the bridge's words


@dataclass(frozen=True)
class Translation:
    """A query's English words, in query order, whether a dictionary supplied any of them, whether a translator
    (Apertium) rendered the query, and its coverage: the share of the query's content words a translator or a
    glossary rendered (or that need no translation: English corpus words, names, acronyms), 0 to 1."""

    words: list[str]
    by_dictionary: bool
    by_machine: bool = False
    coverage: float = 0.0
    # a translator's whole rendering, function words included; without a translator, the words with a glossary's
    # question words ("Si": how; bridge.glossary_sentence), else empty
    sentence: str = ""

    @property
    def text(self) -> str:
        """The words as one string (a rough English rendering of the query)."""
        return " ".join(self.words)

    @property
    def dense_text(self) -> str:
        """What the encoder searches for: the translator's sentence as an English user would type it, else the
        words."""
        return self.sentence or self.text


class Bridge:
    """Maps query words to English corpus words: through a bilingual dictionary where one covers the query's language,
    else (multilingual encoders only) to the nearest English word by the encoder's cosine; reloads when the saved
    bridge changes."""

    def __init__(
        self,
        store: Store,
        encoder: Encoder,
        min_cosine: float,
        dictionaries: list[Path] | None = None,
        dictionary_translations: int = 2,
        translator: Translator | None = None,
    ) -> None:
        """Nothing is read until the first translation."""
        self.path = bridge_path(store, encoder.name)
        self.encoder = encoder
        self.multilingual = is_multilingual(encoder.name)
        self.min_cosine = min_cosine
        self.dictionaries = dictionaries or []
        self.dictionary_translations = dictionary_translations
        self.translator = translator
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._words: list[str] = []
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._levels: list[Vocabulary] = []
        self._qvecs: dict[str, np.ndarray] = {}  # query word or phrase -> its vector (this encoder)

    def _fresh(self) -> bool:
        """Load the saved bridge if it changed; False when there is none."""
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return False
        with self._lock:
            if mtime != self._mtime:
                self._words, self._vecs, _ = load_arrays(self.path)
                counts = load_levels(self.path, len(self._words))
                self._levels = []
                for n in range(len(SENSITIVITY_LEVELS)):
                    allowed = counts[:, n] >= MIN_DF
                    self._levels.append(
                        Vocabulary({w: i for i, w in enumerate(self._words) if allowed[i]}, counts[:, n], allowed)
                    )
                self._mtime = mtime
        return bool(self._words)

    def vocabulary(self, clearance: str | None) -> Vocabulary:
        """The words a caller of this clearance may be given (None: every level, for the local command line)."""
        return self._levels[SENSITIVITY_LEVELS.index(clearance) if clearance else -1]

    def version(self) -> float | None:
        """The saved bridge's modification time (None without one): translations change with it."""
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def _vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Query-side vectors of words and phrases, encoded once per process."""
        with self._lock:
            cache = self._qvecs
            new = [t for t in dict.fromkeys(texts) if t not in cache]
        if new:
            vecs = self.encoder.encode_queries(new)
            with self._lock:
                if len(cache) > 100_000:
                    cache.clear()
                cache.update(zip(new, vecs, strict=False))
        with self._lock:
            return {t: cache[t] for t in texts if t in cache}

    @staticmethod
    def _english(phrase: str, vocab: Vocabulary) -> list[str] | None:
        """The English words of a translation, if every content word is a corpus word (else None)."""
        words = [w for w in ENGLISH_WORD.findall(phrase.lower()) if w not in STOPWORDS]
        return words if words and all(w in vocab.index for w in words) else None

    def _usable(self, translations: tuple[str, ...], vocab: Vocabulary) -> bool:
        """Whether any translation is made of corpus English words."""
        return any(self._english(t, vocab) is not None for t in translations)

    def _score(self, words: list[str], target: np.ndarray | None, vocab: Vocabulary) -> float:
        """How likely a translation is meant: with a multilingual encoder, its cosine to the target vector; otherwise
        how common its rarest word is in the corpus (a domain prior: 'evidence' before 'token' for 'dokaz')."""
        if target is None or not self.multilingual:
            return float(min(vocab.df[vocab.index[w]] for w in words))
        vec = self._vecs[[vocab.index[w] for w in words]].mean(axis=0)
        return float(vec @ target) / max(float(np.linalg.norm(vec)), 1e-9)

    def _pick(self, target: Context, translations: tuple[str, ...], vocab: Vocabulary) -> list[str]:
        """English words of the best translations of a dictionary entry. The target is the whole query's vector (its
        context tells 'court' from 'vessel' for 'sud'; on the domain dev half this beat the source word's own vector,
        0.724 vs 0.708), or the source phrase's when the query has no vector (lexical mode); a lazy target is only
        computed when there is a choice to make."""
        candidates = [words for t in translations if (words := self._english(t, vocab)) is not None]
        if len(candidates) > 1:  # a choice to make (only then is a lazy target computed, and only if it is used)
            vector = (target() if callable(target) else target) if self.multilingual else None
            candidates.sort(key=lambda words: -self._score(words, vector, vocab))
        out: list[str] = []
        for words in candidates[: self.dictionary_translations]:
            out += [w for w in words if w not in out]
        return out

    def translate(
        self, query: str, language: str | None = None, context: Context = None, clearance: str | None = None
    ) -> Translation:
        """The query's English words: by machine translation where it serves the language (index/translate.py), the
        bridge filling the words it left untranslated (from the vocabulary a caller of this clearance may see);
        otherwise by the bridge alone. Machine translation itself depends on no document."""
        english = self.vocabulary(clearance).index if self.translator is not None and self._fresh() else {}
        rendering = (
            self.translator.render(query, language, lambda word: english_as_typed(word, english))
            if self.translator is not None
            else None
        )
        if rendering is None:
            return self.translate_words(query, language, context, clearance)
        left = [w for w in rendering.unknown if translatable(w) and w.lower() not in english]
        filled = {w: self.translate_words(w, language, context, clearance).words for w in set(rendering.unknown)}
        return Translation(
            rendering.words(lambda word: filled[word]),
            True,
            True,
            share_rendered(sum(translatable(w) for w in WORD.findall(query)), len(left)),
            rendering.sentence(lambda word: filled[word]),
        )

    def translate_words(
        self, query: str, language: str | None = None, context: Context = None, clearance: str | None = None
    ) -> Translation:
        """English words for the query's content words, in query order (words that are already English corpus words
        stay as they are and need no translation: names, acronyms); empty without a bridge. `context` is the query's
        own vector (or a function computing it when first needed), used to choose among a dictionary entry's
        translations. Only words of documents a caller of this `clearance` may see are used (None: all, for the local
        command line)."""
        if not self._fresh():
            return Translation([], False)
        vocab = self.vocabulary(clearance)
        typed = WORD.findall(query)  # the positions Match.start counts in
        tokens = [t.lower() for t in typed]
        matches = []
        said: list[tuple[int, list[str]]] = []  # a glossary's function words, for the sentence only (`spoken`)
        dictionary = dictionary_for(self.dictionaries, language) if self.dictionaries else None
        if dictionary is not None:
            found = dictionary.lookup(query)
            said = spoken(found, dictionary.is_curated)
            matches = [  # an English corpus word needs no translation, unless a glossary says what it means here
                m
                for m in found
                if translatable(m.source) and (m.source.lower() not in vocab.index or dictionary.is_curated(m.source))
            ]
            phrases = [
                m
                for m in matches
                if " " in m.source
                and not self._usable(m.translations, vocab)
                and not (dictionary.is_curated(m.source) and function_words(m.translations))
            ]
            if phrases:  # no translation of a phrase is corpus English: try its words alone
                matches = [m for m in matches if m not in phrases]
                matches += [
                    replace(w, start=m.start + w.start, end=m.start + w.end)
                    for m in phrases
                    for w in dictionary.lookup(m.source, longest=1)
                    if translatable(w.source)
                ]
        vecs = self._vectors([m.source.lower() for m in matches]) if context is None and self.multilingual else {}
        placed: list[tuple[int, list[str]]] = []
        covered: set[int] = set()
        curated: set[int] = set()  # the words a glossary rendered (FreeDict's general senses do not count)
        for m in matches:
            glossary = dictionary is not None and dictionary.is_curated(m.source)
            translations = m.translations
            if glossary:  # a glossary's preferred term (of those in the corpus), as in a machine rendering
                translations = tuple(preferred(tuple(t for t in translations if self._english(t, vocab) is not None)))
            if glossary and function_words(m.translations):  # "të jetë" (be): nothing to search, nothing to guess
                covered.update(range(m.start, m.end))
                curated.update(range(m.start, m.end))
                continue
            picked = self._pick(context if context is not None else vecs.get(m.source.lower()), translations, vocab)
            if picked:  # else (no translation is a corpus word) its words go to the nearest-word path
                placed.append((m.start, picked))
                covered.update(range(m.start, m.end))
                if glossary:
                    curated.update(range(m.start, m.end))
        by_dictionary = bool(placed)
        todo: dict[str, int] = {}  # word -> its first position
        for i, t in enumerate(tokens):
            if i not in covered and QUERY_WORD.fullmatch(t) and translatable(typed[i]) and t not in vocab.index:
                todo.setdefault(t, i)
        if todo and self.multilingual and vocab.index:
            vecs = self._vectors(list(todo))
            sims = np.where(vocab.allowed, np.stack([vecs[w] for w in todo]) @ self._vecs.T, -np.inf)
            for row, (i, j) in enumerate(zip(todo.values(), np.argmax(sims, axis=1), strict=False)):
                if sims[row, j] >= self.min_cosine:
                    placed.append((i, [self._words[j]]))
        if placed:  # a translated query keeps its English words (an English one needs no bridge)
            placed += typed_english(tokens, typed, covered, vocab)
        out: list[str] = []
        for _, words in sorted(placed, key=lambda p: p[0]):
            out += [w for w in words if w not in out]
        content = [i for i, t in enumerate(typed) if translatable(t)]
        left = [i for i in content if i not in curated and tokens[i] not in vocab.index]
        coverage = share_rendered(len(content), len(left)) if curated else 0.0  # no glossary term: no translation
        sentence = glossary_sentence(placed, said, typed)
        return Translation(out, by_dictionary, coverage=coverage, sentence=sentence)


def typed_english(
    tokens: list[str], typed: list[str], covered: set[int], vocab: Vocabulary
) -> list[tuple[int, list[str]]]:
    """The words a translated query already gives in English, kept in its rendering as a translator keeps them: its
    words outside its glossary terms that are English as typed (`english_as_typed`: "online", "ransomware").
    Not its capital acronyms and names ("UNMIK", "EULEX"): with them Albanian on the domain dev half fell 0.772 ->
    0.754, as they did in the encoder's sentence (glossary_sentence)."""
    return [
        (i, [t])
        for i, t in enumerate(tokens)
        if i not in covered and english_as_typed(t, vocab.index) and translatable(typed[i])
    ]


def english_as_typed(word: str, english: dict[str, int]) -> bool:
    """Whether a word of a translated query is an English corpus word as typed: four letters or more (shorter ones are
    too often words of the query's language: Albanian "per", "për" without its ë)."""
    return len(word) >= 4 and word.lower() in english


def spoken(matches: list[Match], curated: Callable[[str], bool]) -> list[tuple[int, list[str]]]:
    """The English words of a glossary's entries for the query's function words (Albanian "Si" how, "Cilat" which):
    they are not searched (a stopword) but put in the sentence the encoder reads, as a translator's would be."""
    return [
        (m.start, WORD.findall(m.translations[0])) for m in matches if not translatable(m.source) and curated(m.source)
    ]


def glossary_sentence(placed: list[tuple[int, list[str]]], said: list[tuple[int, list[str]]], typed: list[str]) -> str:
    """The English words with the glossary's words for the query's stopwords (`said`: question words) in their
    places, as one text the encoder reads ("How laundering money invoice"; a first word capitalised as the query's),
    when the glossary gave any; else empty (the encoder reads the words). Not also the glossary terms' whole
    translations, "të jetë" (be), names and acronyms: with them, Albanian on the domain dev half fell 0.767 -> 0.754."""
    if not said:
        return ""
    terms = dict(placed) | dict(said)
    words: list[str] = []
    taken: set[str] = set()
    for w in (w for start in sorted(terms) for w in terms[start]):
        if fold(w) in STOPWORDS or w.lower() not in taken:
            words.append(w)
            taken.add(w.lower())
    if 0 in terms and words and typed[0][:1].isupper():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def function_words(translations: tuple[str, ...]) -> bool:
    """Whether a glossary entry's translations are English function words only ("të jetë": "be"): its words are
    rendered (they are not left to the nearest English word, which read "jetë" as "life") and add nothing to search."""
    words = [w for t in translations for w in WORD.findall(t.lower())]
    return bool(words) and all(w in STOPWORDS for w in words)


def share_rendered(content_words: int, left: int) -> float:
    """A translation's coverage: the share of a query's content words not left untranslated (0 without any)."""
    return max(0.0, 1.0 - left / content_words) if content_words else 0.0


def translatable(text: str) -> bool:
    """Whether a query word or phrase is worth translating: not a stopword, a number or an acronym in capitals."""
    words = QUERY_WORD.findall(text)
    return bool(words) and any(
        w.lower() not in STOPWORDS
        and fold(w) not in STOPWORDS
        and not w.isdigit()
        and not (w.isupper() and len(w) <= 5)
        for w in words
    )
