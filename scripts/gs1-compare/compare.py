"""Differential comparison of pyck's GS1 reading against an independent
parser. Run through `scripts/gs1-compare/run` (docs/GS1.md, "Differential
comparison").

Every input of generate.py goes to pyck (`vocab/examples/gs1_read.rs`, the
same `read_scan` as `pyck scan` and the recording commands) and to the
oracle. Verdicts agree when both refuse, or both accept with the same
elements (an element given twice with one value counts once). A
disagreement is either a known deviation (DEVIATIONS below, each written
down in docs/GS1.md) or a finding to fix.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys

import generate
import oracles

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GS = "\x1d"

# Where pyck departs from the oracle on purpose: (name, test on the scan
# and the two verdicts). docs/GS1.md, "Deliberate deviations", says why.
DEVIATIONS = [
    ("GS written as <GS> or U+241D is an FNC1",
     lambda s, p, o: "<GS>" in s.upper() or "\u241d" in s),
    ("blanks between bracketed elements",
     lambda s, p, o: s.startswith("(") and re.search(r"\) *\(|[^\\] \(", s) is not None and p[0] == "ok"),
    ("an FNC1 right after the symbology identifier is skipped",
     lambda s, p, o: re.match(r"\][A-Za-z]\d" + GS, s) is not None and p[0] == "ok"),
]
BIIP_LENIENCIES = [
    # biip reads what the standard refuses; the standard's verdict is pyck's.
    ("biip checks no pair rules, linters or Digital Link path rules",
     lambda s, p, o: p[0] != "ok" and o[0] == "ok"),
    # And refuses some of what the standard (and GS1's Syntax Engine) reads.
    ("biip refuses what GS1's Syntax Engine reads: (7007) date ranges, = padding in "
     "(8030), a key in a link's stem, a short GTIN in a link's query",
     lambda s, p, o: p[0] == "ok" and o[0] == "error"
     and any(k in o[1] for k in ("(7007)", "(8030)", "as qualifier", "pattern '^01("))),
]


def elements(bracketed):
    """The (AI, value) pairs of a bracketed string, duplicates once. A `(`
    in a value is escaped as `\\(` by the engine always, by pyck only where
    it would read as an AI; an unescaped `(` opens an AI only when digits
    and `)` follow."""
    out, i, ai, value = [], 0, None, ""
    while i < len(bracketed):
        m = re.match(r"\((\d+)\)", bracketed[i:])
        if bracketed.startswith("\\(", i):
            value += "("
            i += 2
        elif m:
            if ai is not None and (ai, value) not in out:
                out.append((ai, value))
            ai, value = m.group(1), ""
            i += m.end()
        else:
            value += bracketed[i]
            i += 1
    if ai is not None and (ai, value) not in out:
        out.append((ai, value))
    return out


def verdict_of(line):
    kind, _, rest = line.partition("\t")
    return ("ok" if kind == "ok" else "error", rest)


def pyck_verdicts(scans, today):
    subprocess.run(
        ["cargo", "build", "-q", "-p", "pyck-vocab", "--example", "gs1_read"],
        cwd=ROOT, check=True,
    )
    binary = os.path.join(ROOT, "target", "debug", "examples", "gs1_read")
    done = subprocess.run(
        [binary, today], input="\n".join(scans) + "\n", capture_output=True,
        text=True, check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == len(scans), (len(lines), len(scans))
    return [verdict_of(line) for line in lines]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--oracle", default="gs1encoders", choices=["gs1encoders", "biip"])
    ap.add_argument("--engine-src", help="a checkout of GS1's Syntax Engine: add its tests' inputs")
    ap.add_argument("--today", default=datetime.date.today().isoformat())
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "gs1-compare.tsv"),
                    help="where to write every input with both verdicts")
    args = ap.parse_args()

    oracle = oracles.load(args.oracle)
    scans = generate.generate(args.engine_src)
    mine = pyck_verdicts(scans, args.today)
    known = DEVIATIONS + (BIIP_LENIENCIES if args.oracle == "biip" else [])
    agree, deviations, findings = 0, {}, []
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("class\tscan\tpyck\toracle\n")
        for scan, p in zip(scans, mine):
            o = oracle.read(scan.replace("{GS}", GS))
            same = p[0] == o[0] and (p[0] == "error" or elements(p[1]) == elements(o[1]))
            if same:
                cls = "agree"
                agree += 1
            else:
                raw = scan.replace("{GS}", GS)
                cls = next((name for name, test in known if test(raw, p, o)), "finding")
                if cls == "finding":
                    findings.append((scan, p, o))
                else:
                    deviations[cls] = deviations.get(cls, 0) + 1
            out.write(f"{cls}\t{scan}\t{p[0]} {p[1]}\t{o[0]} {o[1]}\n")
    print(f"oracle: {oracle.name} {oracle.version}; today {args.today}")
    print(f"{len(scans)} inputs: {agree} agree, {sum(deviations.values())} known deviations, "
          f"{len(findings)} findings")
    for name, n in sorted(deviations.items()):
        print(f"  deviation ({n}): {name}")
    for scan, p, o in findings:
        print(f"FINDING {scan!r}\n    pyck:   {p[0]} {p[1]}\n    oracle: {o[0]} {o[1]}")
    print(f"every input and both verdicts: {args.out}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
