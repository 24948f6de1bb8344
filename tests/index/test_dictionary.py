"""Bilingual dictionaries (dictd files, glossaries) for translating queries into English."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pactkb.index.dictionary import (
    FIELD_GLOSSARIES,
    Dictionary,
    DictionaryError,
    dictionary_dirs,
    dictionary_for,
    find_dictionaries,
    read_dictd,
    read_glossary,
)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENTRIES = {
    "pranje /pɾˈaɲe/": "ablution, laundering, wash",
    "pranje novca /pɾˈaɲe nˈoftsæ/": "money laundering",
    "novac /nˈovæts/": "cash, coin, money, rubbish",
    "prijenos /pɾˈijenos/": "conveyance, transfer",
    "dokaz /dˈokæz/": "1. evidence, proof\n2. token",
    "sud": "court, tribunal, vessel",
}


def b64(n: int) -> str:
    """dictd's base-64 number."""
    out = ""
    while True:
        out = B64[n % 64] + out
        n //= 64
        if not n:
            return out


def write_dictd(folder: Path, name: str, entries: dict[str, str], compress: bool = True) -> Path:
    """A dictd dictionary (index + .dict or .dict.dz) as FreeDict packages ship them."""
    folder.mkdir(parents=True, exist_ok=True)
    data, index = b"", ["00databaseshort\tA\tB"]
    header = b"00-database-short\nTest dictionary\n"
    data += header
    for head, translations in entries.items():
        body = f"{head}\n{translations}\n".encode()
        index.append(f"{head.split(' /')[0]}\t{b64(len(data))}\t{b64(len(body))}")
        data += body
    (folder / f"{name}.index").write_text("\n".join(index) + "\n", encoding="utf-8")
    if compress:
        (folder / f"{name}.dict.dz").write_bytes(gzip.compress(data))
    else:
        (folder / f"{name}.dict").write_bytes(data)
    return folder / f"{name}.index"


@pytest.fixture
def dict_dir(tmp_path: Path) -> Path:
    """A folder with a small Croatian-English dictd dictionary."""
    write_dictd(tmp_path / "dictd", "freedict-hrv-eng", ENTRIES)
    return tmp_path / "dictd"


@pytest.mark.parametrize("compress", [True, False])
def test_dictd_entries_are_read_with_their_translations(tmp_path, compress):
    index = write_dictd(tmp_path, "freedict-hrv-eng", ENTRIES, compress=compress)
    entries = dict(read_dictd(index))
    assert "00databaseshort" not in entries
    assert entries["pranje novca"] == ["money laundering"]
    assert entries["dokaz"] == ["evidence", "proof", "token"]  # numbered senses; the /ipa/ line is not a translation
    assert entries["sud"] == ["court", "tribunal", "vessel"]  # no pronunciation: the headword line is still dropped


def test_a_dictionary_without_its_data_file_names_the_file(tmp_path):
    index = write_dictd(tmp_path, "freedict-hrv-eng", ENTRIES)
    (tmp_path / "freedict-hrv-eng.dict.dz").unlink()
    with pytest.raises(DictionaryError, match="freedict-hrv-eng.dict"):
        read_dictd(index)


def test_inflected_forms_and_both_scripts_find_the_longest_phrase(dict_dir):
    d = dictionary_for([dict_dir], "sr")
    m = d.lookup("primjer pranja novca preko banke")
    assert [(x.source, x.translations) for x in m] == [("pranja novca", ("money laundering",))]
    assert d.lookup("прање новца")[0].translations == ("money laundering",)  # Serbian Cyrillic
    assert d.lookup("prenos novca")[0].translations == ("conveyance", "transfer")  # ekavian form of 'prijenos'
    assert [x.source for x in d.lookup("novac i dokazi")] == ["novac", "dokazi"]


def test_a_dictionary_serves_its_language_family_only(dict_dir):
    assert (
        find_dictionaries([dict_dir], "bs")
        == find_dictionaries([dict_dir], "hr")
        == [dict_dir / "freedict-hrv-eng.index"]
    )
    assert find_dictionaries([dict_dir], "sq") == [] and dictionary_for([dict_dir], "sq") is None
    assert dictionary_for([dict_dir], None) is None
    assert find_dictionaries([dict_dir / "missing"], "sr") == []


def test_a_glossary_adds_terms_and_replaces_the_dictionaries_entry_for_its_own(dict_dir):
    (dict_dir / "cepol.srp-eng.tsv").write_text(
        "# team glossary\nkriptovaluta\tcryptocurrency, virtual asset\nnovac\tfunds\n", encoding="utf-8"
    )
    d = dictionary_for([dict_dir], "sr")
    assert d.lookup("kriptovalute")[0].translations == ("cryptocurrency", "virtual asset")
    assert d.lookup("novca")[0].translations == ("funds",)  # not FreeDict's "cash, coin, money, rubbish" beside it
    assert d.lookup("sud")[0].translations == ("court", "tribunal", "vessel")  # the dictionary's other terms stay
    assert "money laundering" in d.lookup("pranje novca")[0].translations


def test_a_malformed_glossary_line_is_named(tmp_path):
    path = tmp_path / "bad.srp-eng.tsv"
    path.write_text("novac\tmoney\nno tab here\n", encoding="utf-8")
    with pytest.raises(DictionaryError, match=r"bad.srp-eng.tsv line 2"):
        read_glossary(path)


def test_a_broken_dictionary_is_left_out_with_a_warning_naming_it(dict_dir, caplog):
    (dict_dir / "team.srp-eng.tsv").write_text("novac\tfunds\nbroken line\n", encoding="utf-8")
    (dict_dir / "freedict-srp-eng.index").write_text("novac\tA\tZ\n", encoding="utf-8")  # no .dict beside it
    with caplog.at_level("WARNING", logger="pactkb.index.dictionary"):
        d = dictionary_for([dict_dir], "sr")
    assert d.lookup("novca")[0].translations == ("cash", "coin", "money", "rubbish")  # the good file still serves
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "team.srp-eng.tsv line 2" in warned and "freedict-srp-eng" in warned
    (dict_dir / "freedict-hrv-eng.dict.dz").unlink()
    with caplog.at_level("WARNING", logger="pactkb.index.dictionary"):
        assert dictionary_for([dict_dir], "sr") is None  # nothing readable left


def test_debians_croatian_dictionary_is_installed_and_read():
    """make system-deps installs dict-freedict-hrv-eng: the dictionary the Serbo-Croatian bridge translates with."""
    d = dictionary_for([Path("/usr/share/dictd")], "sr")
    assert isinstance(d, Dictionary) and len(d) > 50_000
    assert "money laundering" in d.lookup("pranja novca")[0].translations
    assert "smuggling" in d.lookup("krijumčarenje")[0].translations


def test_pactkb_ships_an_albanian_field_glossary(settings):
    """No offline translator or FreeDict dictionary serves Albanian: pactkb's own glossary gives the field's terms, in
    their inflected forms, with or without diacritics."""
    assert read_glossary(FIELD_GLOSSARIES / "field.sqi-eng.tsv")  # well-formed (a bad line would raise)
    dirs = dictionary_dirs(settings.model_copy(update={"field_glossaries": True}))
    assert dirs[0] == FIELD_GLOSSARIES
    d = dictionary_for(dirs, "sq")
    assert "money laundering" in d.lookup("pastrimi i parave")[0].translations
    assert "financial intelligence unit" in d.lookup("njesia e inteligjences financiare")[0].translations
    found = {m.source: m.translations for m in d.lookup("Si raportohen transaksionet e dyshimta?")}
    assert found == {
        "Si": ("how",),  # 2026.12.9: a question word, for the sentence the encoder reads (bridge.glossary_sentence)
        "raportohen": ("report", "reporting"),
        "transaksionet": ("transaction",),
        "dyshimta": (
            "suspicious",
            "suspicion",
        ),
    }
    assert dictionary_for(dirs, "de") is None  # the field glossaries cover the users' languages only
    assert dictionary_for(dictionary_dirs(settings), "sq") is None  # switched off (the test settings' default)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("sq", "vendeve të treta me rrezik të lartë", "high-risk third countries"),  # inflected, connecting article
        ("sq", "viktimave", "victim"),  # a plural genitive finds the base form's entry
        ("sq", "pastrimin e parave", "money laundering"),  # another case and connecting article than the entry
        ("sr", "politički izloženih osoba", "politically exposed person"),  # Apertium: "politically displayed person"
        ("sr", "stvarnog vlasnika", "beneficial owner"),
        ("sr", "finansiranja terorizma", "terrorist financing"),  # the Serbian form Apertium does not know
        ("hr", "pranje novca", "money laundering"),
        ("bs", "veštačka inteligencija", "artificial intelligence"),  # ekavian finds the ijekavian entry
        ("mk", "сомнителните трансакции", "suspicious transaction"),  # article and plural removed
        ("mk", "indikatorite", "indicator"),  # Macedonian typed in Latin
    ],
)
def test_pactkb_ships_field_glossaries_for_the_users_languages(settings, language, text, expected):
    """The field glossaries (Serbian/Croatian/Bosnian, Macedonian, Albanian) find the field's terms in their inflected
    forms: Snowball stems for sr/hr/bs, a light key (article, case ending, final vowel) for mk and sq."""
    dirs = dictionary_dirs(settings.model_copy(update={"field_glossaries": True}))
    for name in ("field.sqi-eng.tsv", "field.hrv-eng.tsv", "field.mkd-eng.tsv"):
        assert read_glossary(FIELD_GLOSSARIES / name)  # well-formed (a bad line would raise)
    found = dictionary_for(dirs, language).lookup(text)
    assert len(found) == 1 and found[0].end == len(text.split()) and expected in found[0].translations


def test_light_keys_find_inflected_forms_without_joining_unrelated_words():
    from pactkb.index.dictionary import albanian_key, macedonian_key

    assert {albanian_key(w) for w in ("transaksion", "transaksioni", "transaksionit", "transaksioneve")} == {
        "transaksion"
    }
    assert albanian_key("para") != albanian_key("parë")  # money / first: short words keep their letters
    assert {albanian_key(w) for w in ("i", "e", "të", "së")} == {"e"}
    assert albanian_key("hetohet") == albanian_key("hetohen") == albanian_key("hetoj")  # mediopassive of a short stem
    assert albanian_key("paguhet") == albanian_key("paguaj") and albanian_key("kërkohet") == albanian_key("kërkoj")
    assert albanian_key("duhet") != albanian_key("duaj")  # a two-letter stem: too short to tell a verb
    assert {macedonian_key(w) for w in ("банка", "банката", "банки", "banka")} == {"bank"}
    assert macedonian_key("пари") == macedonian_key("парите") != macedonian_key("перење")


def test_a_field_glossary_word_replaces_freedicts_general_senses(settings):
    """Without Apertium (or for a word it leaves), the bridge picks among a dictionary entry's translations: a field
    glossary's entry is the only one offered for its word, so "lice" is never "face, cheek, countenance"."""
    dirs = [FIELD_GLOSSARIES, Path("/usr/share/dictd")]
    plain = dictionary_for([Path("/usr/share/dictd")], "sr")
    assert "face" in plain.lookup("lice")[0].translations
    d = dictionary_for(dirs, "sr")
    assert d.lookup("lica")[0].translations == ("person",)
    assert d.lookup("imovinu")[0].translations == ("assets", "property")  # not FreeDict's "effects, get"
    assert [m.translations[0] for m in d.lookup("pravnog lica")] == ["legal person"]
    assert d.lookup("tijela")[0].translations == ("body", "authority")  # not FreeDict's "Phone:, calf, bodies"
    assert d.lookup("službenika")[0].translations == ("officer", "official")  # not "clerk", "servant"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("sr", "imovinom", "assets"),  # new single words, found by their Snowball stem in another case
        ("hr", "zamrzavanja", "freezing"),
        ("bs", "pojačanim", "enhanced"),  # an oblique form the stemmer cuts differently, listed beside its entry
        ("sr", "naloga", "order"),
        ("mk", "лицата", "person"),  # article and plural removed
        ("mk", "одземањето", "confiscation"),
        ("mk", "засилени", "enhanced"),  # the fleeting e of -ен: засилен / засилена / засилени share one key
        ("sq", "pasurisë", "assets"),  # its own sense, no longer its group's "confiscation"
        ("sq", "sekuestrimit", "seizure"),
        ("sq", "personave juridikë", "legal person"),
        ("sq", "duke pasur parasysh", "having regard to"),  # "pasur" (had) is not "pasuri" (assets) here
        # 2026.12.4: Croatian variants, and the Macedonian and Albanian equivalents of the Serbian entries
        ("hr", "suzbijanja", "combating"),
        ("hr", "osumnjičenika", "suspect"),
        ("mk", "платителот", "payer"),
        ("mk", "служењето", "servitude"),
        ("sq", "palëve të treta", "third party"),
        ("sq", "zyrtarit", "official"),
        ("sq", "pala e dëmtuar", "injured party"),
        # 2026.12.6: a practitioner's general vocabulary in Albanian (what is kept, by whom, by when)
        ("sq", "sa kohë", "how long"),
        ("sq", "ruhen", "kept"),
        ("sq", "detyrimet", "obligation"),
        ("sq", "noterëve", "notary"),
        ("sq", "afatet", "deadline"),
        ("sq", "raportit", "report"),  # the noun, beside the verb's "raportoj"
        ("sq", "kujdesi i shtuar", "enhanced due diligence"),
        ("sq", "zbatohet", "apply"),
        ("sq", "njoftojë", "notify"),
        ("sq", "mbajnë", "keep"),
        ("sq", "veprojë", "act"),
        ("mk", "податоците", "data"),  # not Apertium's "databases"
        # 2026.12.7: FATF / AMLD, border, customs, police and prosecution vocabulary, and verbs in other forms
        ("sq", "verifikojnë", "verify"),
        ("sq", "verifikohet", "verify"),  # the passive finds the active entry
        ("sq", "pezullimin", "suspension"),
        ("sq", "rekomandimet", "recommendation"),
        ("sq", "doganave", "customs"),
        ("sq", "pikat e kalimit kufitar", "border crossing points"),
        ("sq", "burimi i fondeve", "source of funds"),
        ("sq", "kujdesit të thjeshtuar", "simplified due diligence"),
        ("sq", "autoritetet", "authority"),
        ("sq", "të jetë", "be"),  # not "jetë" (life)
        # 2026.12.11: each word of a former group has its own sense first (heroin was its group's "cocaine"), the
        # field's adjectives, negated adjectives and fixed terms the vocabulary list found missing
        ("sq", "heroina", "heroin"),
        ("sq", "kanabisit", "cannabis"),
        ("sq", "refugjatët", "refugee"),
        ("sq", "ekstremizmi", "extremism"),
        ("sq", "pasaportat", "passport"),
        ("sq", "financiare", "financial"),
        ("sq", "reciproke", "mutual"),
        ("sq", "pashoqeruar", "unaccompanied"),
        ("sq", "sanksionet financiare të synuara", "targeted financial sanctions"),
        ("sq", "paraburgimit", "pre-trial detention"),
        ("sq", "hetohet", "investigate"),  # a short stem's mediopassive finds its active verb's entry
        ("sr", "u kojem roku", "by what deadline"),  # Apertium: "in who deadline"
        ("sr", "podnese", "submit"),  # Apertium: "stood"
        ("mk", "поднесува", "submit"),  # Apertium: "is reporting"
    ],
)
def test_single_legal_register_words_are_found_in_their_inflected_forms(settings, language, text, expected):
    """The field glossaries' single legal-register words (person, assets, freezing, seizure, confiscation, enhanced)
    are found in the users' inflected forms, and each word has its own sense first."""
    dirs = dictionary_dirs(settings.model_copy(update={"field_glossaries": True}))
    found = dictionary_for(dirs, language).lookup(text)
    assert len(found) == 1 and found[0].end == len(text.split()) and found[0].translations[0] == expected


def test_an_albanian_mediopassive_has_its_own_entry_else_the_active_verbs():
    from pactkb.index.dictionary import albanian_key, albanian_mediopassive_key

    forms = ("kërkohet", "kërkohen", "kërkohej", "kerkohemi")
    assert len({albanian_mediopassive_key(w) for w in forms}) == 1
    assert albanian_mediopassive_key("kërkohet") != albanian_key("kërkoj")
    assert albanian_mediopassive_key("kërkoj") is None and albanian_mediopassive_key("transaksionet") is None
    glossary = Dictionary(
        [], "light-sq", glossary=[("kërkoj", ["request"]), ("kërkohet", ["required"]), ("raportoj", ["report"])]
    )
    assert [m.translations for m in glossary.lookup("Çfarë kërkohen nga banka")] == [("required",)]
    assert [m.translations for m in glossary.lookup("kërkoj raportohet")] == [("request",), ("report",)]
    assert glossary.is_curated("raportohen") and glossary.is_curated("kërkohej")


def test_a_macedonian_key_cuts_only_an_article():
    from pactkb.index.dictionary import macedonian_key

    assert macedonian_key("усогласеноста") == macedonian_key("усогласеност")  # the -ст noun's article -та
    assert macedonian_key("одговорноста") == macedonian_key("одговорност")
    assert macedonian_key("места") == macedonian_key("местото") == macedonian_key("место")  # -то of a base form kept
    assert macedonian_key("валута") == macedonian_key("валути") == macedonian_key("валутата")  # -та of a base form
    assert macedonian_key("помошта") == macedonian_key("помош") != macedonian_key("помошт")  # a -ш noun's article
    assert macedonian_key("ПОМОШТА") == macedonian_key("помош")
    # a -ии plural's article is only -те: трансакциите was "transakc", трансакција / трансакции "transakci"
    assert macedonian_key("трансакциите") == macedonian_key("трансакции") == macedonian_key("трансакција")
    assert macedonian_key("судиите") == macedonian_key("судии") and macedonian_key("жртвите") == macedonian_key("жртва")
    assert macedonian_key("извештаите") == macedonian_key("извештај") == macedonian_key("извештаи")  # -аи + те
    # the fleeting а of -изам: тероризмот is тероризам ("финансирање на тероризмот" is terrorist financing)
    assert macedonian_key("тероризмот") == macedonian_key("тероризам") and macedonian_key("механизми") == "mehanizam"
    assert macedonian_key("призма") != macedonian_key("призам")  # a short stem is left as it is


def test_a_macedonian_key_reads_k_and_g_typed_for_kj_and_gj():
    """A keyboard without ќ and ѓ types к and г: the glossary's terms are found either way."""
    from pactkb.index.dictionary import macedonian_key

    assert macedonian_key("мегународна") == macedonian_key("меѓународна")
    assert macedonian_key("куке") == macedonian_key("куќе")
    assert macedonian_key("Megunarodna") == macedonian_key("меѓународна")  # transliterated without the j


def test_light_keys_cover_plural_stems_and_definite_forms():
    from pactkb.index.dictionary import albanian_key, macedonian_key

    assert {macedonian_key(w) for w in ("суд", "судови", "судовите")} == {macedonian_key("суд")}
    assert len({macedonian_key(w) for w in ("сомнителен", "сомнителна", "сомнителни", "сомнителните")}) == 1
    assert macedonian_key("лице") == macedonian_key("лицата") != macedonian_key("ли")
    assert macedonian_key("готов") != macedonian_key("готовина")  # a cut never joins a longer word's key
    assert {albanian_key(w) for w in ("trafik", "trafiku", "trafikut", "trafikun")} == {"trafik"}
    assert albanian_key("ligjit") == albanian_key("ligji") == "ligj"
    assert {albanian_key(w) for w in ("raportoj", "raportojnë", "raportohet", "raportuar")} == {"raportoj"}
    assert albanian_key("transaksioni") == "transaksion"  # a noun in -on is no verb


def test_a_macedonian_key_reads_plural_verbs_neuter_shte_and_verbal_nouns():
    from pactkb.index.dictionary import macedonian_key

    assert macedonian_key("пријавуваат") == macedonian_key("пријавува")  # the 3rd plural -аат as the singular
    assert macedonian_key("откриваат") == macedonian_key("открива") != macedonian_key("откри")
    assert len({macedonian_key(w) for w in ("пристаниште", "пристаништето", "пристаништата")}) == 1  # -ште's шт
    assert macedonian_key("фалсификување") != macedonian_key("фалсификувани")  # verbal noun, participle
    assert macedonian_key("перење") == macedonian_key("перењето") == macedonian_key("perenje")
    assert macedonian_key("трансакција") == macedonian_key("трансакции")  # the -ија noun still loses its j
    assert macedonian_key("јавен") == macedonian_key("јавна") == macedonian_key("јавните")  # a short -ен's fleeting e


def test_a_macedonian_glossary_term_is_found_by_its_plural_stem():
    """A masculine noun's -к/-г is -ц/-з before the plural -и (сопственик, сопственици): the term's entry is found by
    that stem too, unless an entry of its own has it; an adjective's -ски keeps its к."""
    from pactkb.index.dictionary import macedonian_plural_key

    glossary = Dictionary(
        [],
        "light-mk",
        glossary=[
            ("вистински сопственик", ["beneficial owner"]),
            ("сведок", ["witness"]),
            ("обврзник", ["obliged entity"]),
            ("обврзници", ["obliged entities"]),
        ],
    )
    assert [m.translations for m in glossary.lookup("вистинските сопственици")] == [("beneficial owner",)]
    assert [m.translations for m in glossary.lookup("сведоци")] == [("witness",)]
    assert [m.translations for m in glossary.lookup("обврзници")] == [("obliged entities",)]  # its own entry
    assert glossary.is_curated("сведоците")
    assert macedonian_plural_key(("vistinsk", "psiholog")) == ("vistinsk", "psiholoz")


def test_a_serbian_plural_finds_its_singulars_entry_and_a_feminine_dative_its_own():
    """Snowball keeps a masculine plural's palatalised velar (`službenici`: "sluzbenic") and an agent noun's -oc-
    (`tražioci`): their second key finds the singular's entry; a feminine `-ica` noun's dative (`granici`) keeps its
    own, and a glossary's own plural entry comes first."""
    from pactkb.index.dictionary import hbs_plural_key

    assert (
        hbs_plural_key("službenici", "sluzbenic") == "sluzbenik" and hbs_plural_key("tražioca", "trazioc") == "trazilac"
    )
    assert hbs_plural_key("granica", "granic") is None and hbs_plural_key("banci", "banc") is None
    # 2026.12.13: an -nt noun's genitive plural inserts an a ("klijenata": "klenat"), a noun in -nat keeps its own
    assert hbs_plural_key("klijenata", "klenat") == "klent" and hbs_plural_key("dokumenata", "dokumenat") == "dokument"
    assert hbs_plural_key("kandidata", "kandidat") is None and hbs_plural_key("klijent", "klent") is None
    assert hbs_plural_key("sredstava", "sredstav") == "sredstv" and hbs_plural_key("društava", "drustav") == "drustv"
    glossary = Dictionary(
        [],
        "serbian",
        glossary=[
            ("službenik", ["officer"]),
            ("svjedok", ["witness"]),
            ("tražilac azila", ["asylum seeker"]),
            ("granica", ["border"]),
            ("podvodnik", ["pimp"]),
            ("podvodnici", ["pimps"]),
            ("klijent", ["customer"]),
            ("privredno društvo", ["company"]),
        ],
    )
    found = glossary.lookup(
        "policijski službenici i svjedoci, tražioci azila na granici, podvodnici, klijenata privrednih društava"
    )
    assert [m.translations[0] for m in found] == [
        *("officer", "witness", "asylum seeker", "border", "pimps", "customer", "company")
    ]
    assert glossary.is_curated("službenicima") and glossary.is_curated("tražiocima azila")


def test_a_verbal_nouns_instrumental_finds_its_terms_entry():
    """Snowball cuts a verbal noun's instrumental -njem without its j (`trgovanjem`: "trgovan", `trgovanje`:
    "trgovanj"): its second key finds the term (2026.12.15: "s trgovanjem ljudima" was Apertium's "trading
    people"); a word that only looks like one keeps its own key."""
    from pactkb.index.dictionary import hbs_plural_key

    assert hbs_plural_key("trgovanjem", "trgovan") == "trgovanj" and hbs_plural_key("pranjem", "pranem") == "pranj"
    assert hbs_plural_key("njem", "njem") is None and hbs_plural_key("trgovanje", "trgovanj") is None
    glossary = Dictionary(
        [], "serbian", glossary=[("trgovanje ljudima", ["human trafficking"]), ("pranje novca", ["money laundering"])]
    )
    found = glossary.lookup("povezan s trgovanjem ljudima i pranjem novca")
    assert [m.translations[0] for m in found] == ["human trafficking", "money laundering"]
    assert glossary.is_curated("krijumčarenjem") is False and glossary.is_curated("trgovanjem ljudima")


def test_no_field_glossary_writes_a_term_twice():
    """One line per term: a second line for the same term silently merged its senses after the first's."""
    from pactkb.index.dictionary import FIELD_GLOSSARIES

    for path in sorted(FIELD_GLOSSARIES.glob("field.*.tsv")):
        heads = [
            line.split("\t")[0] for line in path.read_text("utf-8").splitlines() if line.strip() and line[0] != "#"
        ]
        assert not {h for h in heads if heads.count(h) > 1}, path.name


def test_a_macedonian_term_is_found_without_its_linking_na():
    """A practitioner leaves out "на" inside a term ("спречување перење пари"): the glossary's entry with it is found;
    an entry of its own for the shorter key keeps it."""
    glossary = Dictionary(
        [("спречување на перење пари", ["anti-money laundering"]), ("база на податоци", ["database"])], "light-mk"
    )
    assert [m.translations for m in glossary.lookup("систем за спречување перење пари")] == [("anti-money laundering",)]
    assert [m.translations for m in glossary.lookup("спречување на перење пари")] == [("anti-money laundering",)]
    own = Dictionary([("проценка на ризик", ["risk assessment"]), ("проценка ризик", ["own"])], "light-mk")
    assert [m.translations for m in own.lookup("проценка ризик")] == [("own",)]
    assert [m.translations for m in own.lookup("проценка на ризик")] == [("risk assessment",)]
    assert [m.translations for m in glossary.lookup("на база")] == []  # a first or last word is not left out
