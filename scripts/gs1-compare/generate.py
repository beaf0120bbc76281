"""The inputs of the differential comparison: scans that matter for a
warehouse terminal, each in the forms a scanner sends, and mutations of
them that a parser must refuse. Deterministic (seeded), so two runs compare
the same inputs.

Sources, in order:
1. the scans of pyck's own conformance vectors (vocab/tests/data/*.tsv);
2. with --engine-src DIR (a checkout of GS1's Barcode Syntax Engine), the
   inputs of its unit tests (src/c-lib/{ai,dl,scandata}.c), read from the
   files at run time; their verdicts come from the oracle, not from them;
3. generated: valid element strings from a sample of every kind of AI, in
   bracketed, raw (GS1-128, DataMatrix, QR, DataBar identifiers, bare, with
   and without a leading FNC1, GS as the byte), their mutations (check
   digit, length, missing FNC1, dates incl. day 00, pair rules, unknown
   AIs), and Digital Link URIs with their variants (keys, qualifier order,
   query attributes, percent-encoding, +, stems, identifiers).

Each input is one line; the byte 0x1D is written {GS}.
"""

import os
import random
import re
import sys

GS = "{GS}"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# GS1 General Specifications figure 7.8.5-2: AIs starting with these two
# digits have a predefined length and need no FNC1 after them.
PREDEFINED = {
    "00": 20, "01": 16, "02": 16, "03": 16, "04": 18, "11": 8, "12": 8,
    "13": 8, "14": 8, "15": 8, "16": 8, "17": 8, "18": 8, "19": 8, "20": 4,
    "31": 10, "32": 10, "33": 10, "34": 10, "35": 10, "36": 10, "41": 16,
}


def csum(body):
    """The GS1 mod-10 check digit of a string of digits."""
    total = 0
    for i, c in enumerate(reversed(body)):
        total += int(c) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def with_csum(body):
    return body + csum(body)


# Valid values, one or more per AI: a sample of every kind of AI in the
# table (keys, qualifiers, dates, measures, amounts, locations, origins,
# company-internal, coupons, the 7xxx and 8xxx ranges).
GTIN = with_csum("0950110153000")
GTIN2 = with_csum("0761234567890")
SSCC = with_csum("10614141123456789")
GLN = with_csum("950110153000")
VALID = {
    "00": [SSCC],
    "01": [GTIN, GTIN2, with_csum("0001234567890")],
    "02": [GTIN2],
    "10": ["L2710", "ABC-12/3", "X"],
    "11": ["250101"],
    "12": ["270131"],
    "13": ["260615"],
    "15": ["270120", "270200"],
    "16": ["270101"],
    "17": ["270120", "271200", "280229"],
    "20": ["07"],
    "21": ["SER123", "12345678901234567890"],
    "22": ["CPV-1"],
    "235": ["TPX9"],
    "240": ["ADD-ID"],
    "241": ["CUST-PART"],
    "242": ["123456"],
    "243": ["PCN1"],
    "250": ["SEC-SER"],
    "251": ["REF-SRC"],
    "253": [with_csum("950110153000") + "ABC"],
    "254": ["EXT-1"],
    "255": [with_csum("950110153000") + "12"],
    "30": ["12", "1"],
    "37": ["24"],
    "3103": ["001234"],
    "3102": ["000189"],
    "3202": ["001250"],
    "3302": ["002000"],
    "3402": ["004400"],
    "3120": ["000100"],
    "3500": ["000100"],
    "3600": ["000100"],
    "3922": ["1299"],
    "3932": ["978" + "1299"],
    "3940": ["1234"],
    "3950": ["123456"],
    "400": ["PO-4711"],
    "401": [with_csum("950110153000") + "GINC"],
    "402": [with_csum("9501101530000000")],
    "403": ["ROUTE1"],
    "410": [GLN],
    "413": [GLN],
    "414": [GLN],
    "415": [GLN],
    "417": [GLN],
    "420": ["2000"],
    "421": ["2762000"],
    "422": ["208"],
    "423": ["208"],
    "424": ["208"],
    "426": ["208"],
    "4300": ["Acme Ltd"],
    "4307": ["DK"],
    "4321": ["1"],
    "4324": ["2701201530"],
    "7001": [with_csum("950110153000") + "0"],
    "7003": ["2701201530"],
    "7006": ["270120"],
    "7007": ["270120", "270120270130"],
    "7010": ["1"],
    "7020": ["REF-1"],
    "7023": ["9501ABC"],
    "7240": ["PROTO"],
    "8001": ["12341234512398"],
    "8003": ["0" + with_csum("950110153000") + "X1"],
    "8004": ["9501ABC123"],
    "8006": [GTIN + "0102"],
    "8008": ["2701201530"],
    "8010": ["9501ABC"],
    "8011": ["123"],
    "8012": ["1.2.3"],
    "8013": ["1987654Ad4X4bL5ttr2310c2K"],
    "8017": [with_csum("95011015300000000")],
    "8018": [with_csum("95011015300000000")],
    "8020": ["REF1"],
    "8110": ["012345612345611110123"],
    "8112": ["001234561234560123456"],
    "8200": ["http://example.com"],
    "90": ["INTERNAL"],
    "91": ["A1"],
    "99": ["99-X"],
}

# Elements that make a label by themselves (their requisites held).
LABELS = [
    [("01", GTIN)],
    [("01", GTIN), ("17", "270120"), ("10", "L2710")],
    [("01", GTIN), ("3103", "001234")],
    [("01", GTIN), ("17", "270120"), ("3103", "000189")],
    [("01", GTIN), ("30", "12")],
    [("01", GTIN), ("21", "SER123")],
    [("00", SSCC)],
    [("00", SSCC), ("02", GTIN2), ("37", "24")],
    [("00", SSCC), ("02", GTIN2), ("37", "24"), ("10", "L1"), ("15", "270120")],
    [("414", GLN), ("254", "EXT-1")],
    [("8004", "9501ABC123")],
    [("253", VALID["253"][0])],
    [("8110", "012345612345611110123")],
    [("8112", "001234561234560123456")],
    [("01", GTIN), ("7003", "2701201530"), ("10", "ABC")],
    [("01", GTIN), ("422", "208"), ("10", "L2")],
    [("01", GTIN), ("3922", "1299")],
    [("01", GTIN), ("90", "INTERNAL"), ("91", "A1")],
]


def bracketed(elements):
    return "".join(f"({ai}){v}" for ai, v in elements)


def raw(elements):
    """Element string as a scanner sends it: GS only after a value whose AI
    is not of predefined length, and not after the last."""
    out = ""
    for i, (ai, v) in enumerate(elements):
        out += ai + v
        last = i == len(elements) - 1
        if not last and ai[:2] not in PREDEFINED:
            out += GS
    return out


def forms(elements):
    r = raw(elements)
    yield bracketed(elements)
    yield r
    yield "]C1" + r
    yield "]d2" + r
    yield "]Q3" + r
    yield "]e0" + r
    yield GS + r


def mutations(elements, rng):
    """Scans a parser must refuse, or must read differently."""
    for i, (ai, v) in enumerate(elements):
        others = elements[:i] + elements[i + 1:]
        if v.isdigit() and len(v) > 1:
            wrong = v[:-1] + str((int(v[-1]) + 1) % 10)
            yield raw(elements[:i] + [(ai, wrong)] + elements[i + 1:])
        yield bracketed(elements[:i] + [(ai, v[:-1])] + elements[i + 1:])
        yield bracketed(elements[:i] + [(ai, v + "9")] + elements[i + 1:])
        if ai[:2] not in PREDEFINED and i < len(elements) - 1:
            # Missing FNC1 after a variable-length value.
            yield "]C1" + raw(elements).replace(v + GS, v, 1)
        yield bracketed(others)
    # The same AI twice with another value.
    ai, v = elements[-1]
    yield bracketed(elements + [(ai, v[:-1] + ("1" if v[-1] != "1" else "2"))])
    # Unknown AIs.
    for unknown in ("23", "27", "28", "32", "4999", "7099", "8099", "89"):
        yield bracketed(elements + [(unknown, "123456")])
    # Lower-case and non-CSET82 characters in a lot.
    yield bracketed(elements + [("10", "a b")])
    yield bracketed(elements + [("10", rng.choice(["A~B", "A\u00e9B", 'A"B', "A%B", "A#B"]))])


def dates():
    for ai in ("11", "13", "15", "16", "17"):
        for d in ("270100", "270229", "280229", "271301", "270001", "270132", "000229",
                  "990228", "500101", "760101", "770101"):
            yield f"(01){GTIN}({ai}){d}"
    for d in ("2701001530", "2701202400", "2701202359", "2701201560", "27012015", "270120"):
        yield f"(01){GTIN}(7003){d}"
    for d in ("270120", "270100", "270120270100", "270120270131"):
        yield f"(01){GTIN}(7007){d}"
    for d in ("2701201530", "27012015301", "2701202460", "27012015"):
        yield f"(01){GTIN}(8008){d}"


def pair_rules():
    yield f"(01){GTIN}(02){GTIN2}"
    yield f"(01){GTIN}(37)12"
    yield f"(02){GTIN2}(37)12"
    yield f"(00){SSCC}(37)12"
    yield f"(37)12"
    yield f"(10)ABC"
    yield f"(21)SER"
    yield f"(3103)001234"
    yield f"(00){SSCC}(3103)001234"
    yield f"(01){GTIN}(255){VALID['255'][0]}"
    yield f"(01){GTIN}(21)X(8030)MDEyMzQ1"
    yield f"(8030)MDEyMzQ1"
    yield f"(01){GTIN}(3922)1299(3932)9781299"
    yield f"(01){GTIN}(3940)1234(8111)9999"
    yield f"(255){VALID['255'][0]}(8111)9999"
    yield f"(01){GTIN}(3103)001234(3102)000189"
    yield f"(01){GTIN}(3103)001234(3103)001234"
    yield f"(01){GTIN}(10)A(10)A"
    yield f"(01){GTIN}(30)5(37)5"
    yield f"(01){GTIN}(422)208(426)208"
    yield f"(8006){VALID['8006'][0]}(01){GTIN}"
    yield f"(8006){VALID['8006'][0]}(22)A"
    yield f"(414){GLN}(254)X(410){GLN}"
    yield f"(01){GTIN}(8200)http://example.com"
    yield f"(8200)http://example.com"


def single_ais():
    for ai, values in VALID.items():
        for v in values:
            yield f"({ai}){v}"
            yield "]C1" + ai + v
            yield ai + v


KEYS = [
    ("01", GTIN),
    ("01", GTIN[1:]),           # GTIN-13
    ("01", GTIN[2:]),           # GTIN-12
    ("01", with_csum("9638507")),  # GTIN-8
    ("00", SSCC),
    ("414", GLN),
    ("417", GLN),
    ("8004", "9501ABC123"),
    ("8006", VALID["8006"][0]),
    ("8010", "9501ABC"),
    ("8013", "1987654Ad4X4bL5ttr2310c2K"),
    ("8017", VALID["8017"][0]),
    ("8018", VALID["8018"][0]),
    ("253", VALID["253"][0]),
    ("255", VALID["255"][0]),
    ("401", VALID["401"][0]),
    ("402", VALID["402"][0]),
    ("8003", VALID["8003"][0]),
]


def links(rng):
    stems = ["https://id.gs1.org", "http://example.com", "https://example.com/shop",
             "HTTPS://ID.GS1.ORG", "https://example.com:8443", "https://a",
             "https://example.com/01/12345678901231", "https://example.com/x//y"]
    for key, value in KEYS:
        for stem in stems[:4]:
            yield f"{stem}/{key}/{value}"
        yield f"{rng.choice(stems)}/{key}/{value}/"
        yield f"{rng.choice(stems)}/{key}/{value}?17=270120"
        yield f"{rng.choice(stems)}/{key}/{value}#frag"
    q = f"https://id.gs1.org/01/{GTIN}"
    qualified = [
        "/22/A1", "/10/L1", "/21/S1", "/22/A/10/L", "/22/A/21/S", "/10/L/21/S",
        "/22/A/10/L/21/S", "/10/L/22/A", "/21/S/10/L", "/235/X1", "/235/X/10/L",
        "/17/270120", "/10/L/17/270120", "/21/S/21/T", "/10/", "/10//21/S",
    ]
    for path in qualified:
        yield q + path
    for stem in stems:
        yield f"{stem}/01/{GTIN}/10/L2710?17=270120"
    attrs = [
        "17=270120", "3103=001234", "15=270100", "7003=2701201530", "99=X", "90=A%2FB",
        "10=L1", "21=S", "22=A", "27=x", "3103=12", "17=271301", "linkType=gs1:pip",
        "99=A%20B", "99=A+B", "99=A%2BB", "99=%41", "99=%4", "99=%zz", "99=", "=X",
        "17=270120&17=270120", "17=270120&17=270121", "17=270120&3103=001234&99=Z",
        "01=" + GTIN, "00=" + SSCC, "414=" + GLN, "8200=http%3A%2F%2Fx",
        "4321=1", "30=5", "37=5", "02=" + GTIN2, "single", "&&99=A", "99=A&", "99=A;98=B",
    ]
    for a in attrs:
        yield f"{q}?{a}"
    for path in ["/10/A%2FB", "/10/A%2fB", "/10/A+B", "/10/A%20B", "/10/A%", "/10/A%zz",
                 "/10/%41BC", "/21/" + "%2F" * 5, "/10/A~B", "/10/A'B", "/10/A(B)"]:
        yield q + path
    for ident in ("]Q1", "]d1", "]J0", "]C1", "]e0", "]d2", "]Q3", "]J1", "]Q2", "]E0", "]X0"):
        yield ident + q
        yield ident + q + "/10/L1?17=270120"
    for bad in ("ftp://example.com/01/" + GTIN, "https://exa mple.com/01/" + GTIN,
                "https://exa_mple.com/01/" + GTIN, "https://user@example.com/01/" + GTIN,
                "https://example.com?01=" + GTIN, "https:/example.com/01/" + GTIN,
                "https://example.com/01", "https://example.com/01/", "https://example.com",
                "HtTpS://example.com/01/" + GTIN, "https://EXAMPLE.com/01/" + GTIN,
                "https://[::1]/01/" + GTIN, "https://127.0.0.1/01/" + GTIN,
                "https://example.com/gtin/" + GTIN, "https://example.com/01/" + GTIN[:-1] + "9",
                "https://example.com/01/" + GTIN + "?17=270120#x", "https://example.com/01/" + GTIN + "?",
                "https://example.com/a/b/c/01/" + GTIN + "/10/L?3103=001234&linkType=all"):
        yield bad


def gs_texts():
    # GS written out by keyboards and scanners: pyck reads <GS> and U+241D
    # as FNC1 (a documented deviation); the oracle reads them as data.
    yield f"]C101{GTIN}10ABC<GS>17270120"
    yield f"01{GTIN}10ABC\u241d17270120"
    yield f"(01){GTIN} (10)ABC"


def engine_inputs(src):
    """The inputs of GS1's Syntax Engine unit tests (not their verdicts)."""
    call = re.compile(
        r"test_(parseDLuri|parseAIdata|processAIdata|testProcessScanData|validateAIs)\(\s*"
        r"(?:true|false)\s*,\s*(?:\w+\s*,\s*)?((?:\"(?:[^\"\\]|\\.)*\"\s*)+)"
    )
    literal = re.compile(r"\"((?:[^\"\\]|\\.)*)\"")

    def unescape(s):
        s = re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s)
        return s.replace('\\"', '"').replace("\\\\", "\\")

    for name in ("ai.c", "dl.c", "scandata.c"):
        path = os.path.join(src, "src", "c-lib", name)
        if not os.path.exists(path):
            continue
        text = open(path, encoding="latin-1").read()
        for kind, lits in call.findall(text):
            s = unescape("".join(literal.findall(lits)))
            if not s or "\n" in s or "|" in s and kind == "testProcessScanData":
                continue
            if kind == "processAIdata":
                if not s.startswith("^"):
                    continue
                s = "]C1" + s[1:].replace("^", "\x1d")
            yield s.replace("\x1d", GS)


CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
CSET39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CSET64 = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def table():
    """Every AI of the syntax dictionary pyck carries, with its parts
    (cset, min, max, optional, linters): read from the PostScript text,
    so the comparison covers the whole table."""
    text = open(os.path.join(ROOT, "sync", "src", "gs1", "data", "gs1syntax.ps"),
                encoding="utf-8").read()
    part = re.compile(r"<< /cset /(\w+)\s+/min\s+(\d+)\s+/max\s+(\d+)\s+/opt (\w+)\s+"
                      r"/linters \[([^\]]*)\] >>")
    out, parts = {}, []
    for line in text.splitlines():
        m = part.search(line)
        if m:
            cset, lo, hi, opt, linters = m.groups()
            parts.append((cset, int(lo), int(hi), opt == "true",
                          [l.strip().lstrip("/")[4:] for l in linters.split() if l.strip()]))
        m = re.match(r"\s*\((\d+)\) exch dup", line)
        if m and parts:
            out[m.group(1)] = parts
        if line.strip() == "pop":
            parts = []
    return out


def value_for(parts, rng):
    """A value for an AI: each part of a random length in its range from
    its character set, dates and check digits made to hold where the part
    names such a linter (other linters are left to chance)."""
    out = ""
    for cset, lo, hi, opt, linters in parts:
        if opt and rng.random() < 0.3:
            break
        n = rng.randint(lo, hi)
        if "yymmd0" in linters or "yymmdd" in linters:
            v = rng.choice(["270120", "271231", "280229", "250615"])[:n]
        elif "yyyymmdd" in linters:
            v = "20270120"
        elif "hhmi" in linters:
            v = "1530"
        elif cset == "N":
            v = "".join(rng.choice("0123456789") for _ in range(n))
            if "csum" in linters and n > 1:
                v = with_csum(v[:-1])
        else:
            alphabet = {"X": CSET82, "Y": CSET39, "Z": CSET64}.get(cset, CSET82)
            v = "".join(rng.choice(alphabet) for _ in range(n))
        out += v
    return out


def whole_table(rng):
    for ai, parts in sorted(table().items()):
        v = value_for(parts, rng)
        if "(" in v or "\\" in v:
            v = v.replace("(", "A").replace("\\", "B")
        yield f"({ai}){v}"
        yield f"]C101{GTIN}" + ("" if ai[:2] in PREDEFINED else "") + ai + v
        yield f"]d2{ai}{v}{GS}10L1" if ai[:2] not in PREDEFINED else f"]d2{ai}{v}10L1"


def own_vectors():
    for name in ("gs1_conformance.tsv", "other_parser_vectors.tsv"):
        for line in open(os.path.join(ROOT, "sync", "tests", "data", name), encoding="utf-8"):
            if line.startswith("#") or not line.strip():
                continue
            yield line.split("\t")[1]


def generate(engine_src=None, seed=22):
    rng = random.Random(seed)
    seen = set()
    out = []

    def add(scan):
        if scan not in seen and "\n" not in scan:
            seen.add(scan)
            out.append(scan)

    for s in own_vectors():
        add(s)
    if engine_src:
        for s in engine_inputs(engine_src):
            add(s)
    for label in LABELS:
        for f in forms(label):
            add(f)
        for m in mutations(label, rng):
            add(m)
    for gen in (dates(), pair_rules(), single_ais(), links(rng), gs_texts(), whole_table(rng)):
        for s in gen:
            add(s)
    # Random labels: a GTIN and two to four other elements of the sample.
    others = [ai for ai in VALID if ai not in ("00", "01", "02", "37", "8006", "8110", "8112")]
    for _ in range(300):
        elements = [("01", rng.choice(VALID["01"]))]
        for ai in rng.sample(others, rng.randint(1, 4)):
            elements.append((ai, rng.choice(VALID[ai])))
        rng.shuffle(elements)
        form = rng.choice(list(forms(elements)))
        add(form)
    return out


if __name__ == "__main__":
    src = None
    if len(sys.argv) > 2 and sys.argv[1] == "--engine-src":
        src = sys.argv[2]
    for s in generate(src):
        print(s)
