#!/usr/bin/env python3
"""Writes reference-cases.jsonl.gz for ReferenceCasesTest from the Python reference tokenizer.

Each line: {"text", "ftfy" (ftfy.fix_text), "cleaned" (whitespace_clean(basic_clean(text)).lower()),
"ids" (SimpleTokenizer().encode(text)), "decoded" (SimpleTokenizer().decode(ids))}.

Usage: PYTHONPATH=<dir with ftfy/ and clip/> python3 gen_tokenizer_reference_cases.py OUT.jsonl.gz [SEED] [COUNT]
Needs: ftfy 6.3.1 (rspeer/python-ftfy @ 74dd0452), openai/CLIP clip/simple_tokenizer.py (@ d05afc43)
with its bpe_simple_vocab_16e6.txt.gz, the `regex` package, CPython 3.11.
The inputs are random but seeded: prompt-like word salad, mojibake made by encoding text as UTF-8 (or
CESU-8) and decoding it in one of ftfy's code pages (sometimes twice, sometimes with U+00A0 turned into
spaces), HTML references, whitespace/control/special characters, lone surrogates, random code points.
"""
import gzip
import io
import json
import random
import sys

import ftfy
from clip.simple_tokenizer import SimpleTokenizer, basic_clean, whitespace_clean

WORDS = ("a photo of the cat dog president united states painting realistic portrait news image "
         "beautiful drawing in Paris Eiffel tower astronaut riding horse moon don't I'm we'll you've "
         "it's they're café naïve Straße über Ελλάδα ΣΟΦΟΣ Москва 東京 北京 서울 ﬁsh ＬＯＵＤ").split()
PHRASES = ["café", "naïve", "à la mode", "voilà le travail", "Ελληνικά", "Москва", "日本語", "한국어",
           "😀 smile", "🐱🔥", "“quoted”", "it’s", "—dash–", "…", "€100", "Straße", "ção",
           "\u00a0nbsp\u00a0", "Ölçek", "Łódź", "ẞ", "İstanbul", "ΣΟΦΟΣ ΣΟΦΟΣ.", "ǅemal", "ﬁne",
           "x\u0345y", "ᾳ", "Ⅻ", "①②", "𝟘𝟙", "٣٤", "Ａｂｃ"]
ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x27;", "&nbsp;", "&eacute;", "&EACUTE;",
            "&SZLIG;", "&hellip;", "&mdash;", "&amp;amp;", "&amp;lt;", "&#128;", "&#0;", "&#xD800;",
            "&#1114112;", "&#12a;", "&notit;", "&not", "&ampx", "&copy", "&Jscr;", "&NTILDE;",
            "&nTILDE;", "&#65", "&#x41", "&", "&;", "&#;", "&#x;", "&ZZZ;"]
SPECIAL = ["\u0130", "\u017f", "\u0345", "\u03a3", "\u1e9e", "\u00a0", "\u2000", "\u200b", "\u3000",
           "\u1680", "\u2028", "\u2029", "\u202f", "\u205f", "\u0085", "\x1c", "\x1f", "\t", "\r\n",
           "\r", "\n", "\x1b[31m", "\x1b[0m", "\ufeff", "\u2018", "\u2019", "\u201c", "\u201d",
           "\u02bc", "\ufb01", "\ufb03", "\u0132", "\u01c4", "\uff21", "\uff41", "\uff10", "\uff76",
           "\uff9e", "<|startoftext|>", "<|endoftext|>", "<|ſtartoftext|>", "'S", "'ſ", "'RE",
           "\u0301", "e\u0301", "\u1100\u1161\u11a8", "\u00c5", "A\u030a", "\U0001F431",
           "\u2764\ufe0f", "\U0001F1FA\U0001F1F8", "\U0001F468\u200d\U0001F469", "<", ">", "\x00",
           "\x7f", "\x80", "\x9d", "\ufffd", "\U000E0041"]
CODEPAGES = ["latin-1", "cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1257", "iso-8859-2",
             "mac_roman", "cp437"]


def random_code_point(r):
    k = r.random()
    if k < 0.3:
        return chr(r.randint(0x20, 0x7E))
    if k < 0.5:
        return chr(r.randint(0x80, 0x2FFF))
    if k < 0.6:
        return chr(r.randint(0x3000, 0xD7FF))
    if k < 0.7:
        return chr(r.randint(0xE000, 0xFFFF))
    if k < 0.9:
        return chr(r.randint(0x10000, 0x10FFFF))
    return chr(r.randint(0, 0x1F))


def mojibake(r, s, codepage, cesu=False):
    if cesu:
        units = []
        for ch in s:
            c = ord(ch)
            if c >= 0x10000:
                c -= 0x10000
                units += [chr(0xD800 + (c >> 10)), chr(0xDC00 + (c & 0x3FF))]
            else:
                units.append(ch)
        data = "".join(units).encode("utf-8", "surrogatepass")
    else:
        data = s.encode("utf-8")
    if r.random() < 0.2:
        data = data.replace(b"\x00", b"\xc0\x80")
    return data.decode(codepage, errors="replace")


def make(r):
    words = lambda a, b: " ".join(r.choice(WORDS) for _ in range(r.randint(a, b)))
    phrase = " ".join(r.choice(PHRASES) for _ in range(r.randint(1, 5)))
    k = r.randrange(13)
    if k == 0:
        return words(0, 20)
    if k == 1:
        return r.choice(WORDS) + " " + mojibake(r, words(1, 8), r.choice(CODEPAGES)) + " " + r.choice(WORDS)
    if k == 2:
        return " ".join(r.choice(ENTITIES + WORDS) for _ in range(r.randint(1, 10)))
    if k == 3:
        return "".join(random_code_point(r) for _ in range(r.randint(0, 30)))
    if k == 4:
        return "".join(r.choice(SPECIAL + WORDS + [" "]) for _ in range(r.randint(0, 15)))
    if k == 5:
        return "".join(r.choice(SPECIAL + ENTITIES + [" ", "x", "Σ", "ς"]) + random_code_point(r)
                       for _ in range(r.randint(0, 12)))
    if k == 6:
        return " ".join(r.choice(WORDS + ENTITIES) for _ in range(r.randint(60, 120)))
    if k == 7:
        return mojibake(r, phrase, "cp1251")
    if k == 8:
        return mojibake(r, phrase, r.choice(["latin-1", "cp1252"])).replace("\xa0", " ")
    if k == 9:
        return mojibake(r, phrase + " \U0001F600\x00", r.choice(CODEPAGES), cesu=True)
    if k == 10:
        s = list(phrase)
        for _ in range(r.randint(1, 3)):
            s.insert(r.randrange(len(s) + 1), chr(r.randint(0xD800, 0xDFFF)))
        return "".join(s)
    if k == 11:
        return mojibake(r, mojibake(r, phrase, r.choice(CODEPAGES)), r.choice(CODEPAGES))
    return "".join(r.choice([phrase, mojibake(r, phrase, r.choice(CODEPAGES)), " ", "\n", "\r\n", "&lt;",
                             "<", "\x1b[1m", "<b>&amp;</b>"]) for _ in range(6))


def main(out, seed, count):
    tok = SimpleTokenizer()
    r = random.Random(seed)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as f:
        n = 0
        while n < count:
            s = make(r)
            try:
                ids = tok.encode(s)
                rec = {"text": s, "ftfy": ftfy.fix_text(s), "cleaned": whitespace_clean(basic_clean(s)).lower(),
                       "ids": ids, "decoded": tok.decode(ids)}
            except Exception:  # the reference itself fails (never seen with these inputs)
                continue
            f.write(json.dumps(rec, ensure_ascii=True) + "\n")
            n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20261126,
         int(sys.argv[3]) if len(sys.argv) > 3 else 2000)
