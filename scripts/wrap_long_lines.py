#!/usr/bin/env python3
"""Wraps the string literals and comments of src/ that run past 100 columns (the house limit,
held by tests/tidy.rs), keeping every literal's value: it breaks a literal at a space with a
`\\` line continuation (which drops the next line's leading whitespace), lets rustfmt lay the
code out around it, and repeats until stable; then it checks that every file's literals have
the values they had. What it cannot wrap (a long line of code, a json! macro) it lists.
Run from the repository's root: python3 scripts/wrap_long_lines.py"""

import re, sys

MAX = 100

def literals(src):
    """(start, end) offsets of every plain string literal (quote to quote), and raw ones."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i)
            i = n if j < 0 else j
            continue
        if src.startswith('/*', i):
            j = src.find('*/', i)
            i = n if j < 0 else j + 2
            continue
        m = re.match(r'b?r(#*)"', src[i:i + 10]) if c in 'rb' and (i == 0 or not (src[i-1].isalnum() or src[i-1] == '_')) else None
        if m:
            hashes = m.group(1)
            end = src.index('"' + hashes, i + m.end())
            out.append((i, end + 1 + len(hashes), 'raw'))
            i = end + 1 + len(hashes)
            continue
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            out.append((i, j + 1, 'str'))
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'])'", src[i:i + 12])
            if m:
                i += m.end()
                continue
        i += 1
    return out

def value(lit):
    s = lit
    res, i = [], 1
    while i < len(s) - 1:
        if s[i] == '\\':
            nx = s[i + 1]
            if nx == '\n':
                i += 2
                while i < len(s) and s[i] in ' \t\n\r':
                    i += 1
                continue
            res.append(s[i:i + 2]); i += 2
            continue
        res.append(s[i]); i += 1
    return ''.join(res)

def values(src):
    return [value(src[a:b]) if k == 'str' else src[a:b] for a, b, k in literals(src)]

def wrap_once(src):
    lits = literals(src)
    lines = src.split('\n')
    starts = [0]
    for l in lines:
        starts.append(starts[-1] + len(l) + 1)
    for ln, line in enumerate(lines):
        if len(line) <= MAX:
            continue
        ls = starts[ln]
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        # a comment line
        if stripped.startswith('//') and not any(a <= ls < b for a, b, _ in lits):
            prefix = re.match(r'//[/!]?\s?', stripped).group(0)
            cut = line.rfind(' ', 0, MAX + 1)
            if cut <= len(indent) + len(prefix):
                continue
            new = line[:cut] + '\n' + indent + prefix + line[cut + 1:]
            return src[:ls] + new + src[ls + len(line):]
        for a, b, k in lits:
            if k != 'str' or b <= ls or a >= ls + len(line):
                continue
            # the literal crosses this line; break it at a space before column MAX - 1
            lo = max(a + 1, ls) - ls
            hi = min(b - 1, ls + MAX - 1) - ls
            col = None
            for c in range(hi - 1, lo, -1):
                if line[c] == ' ' and line[c + 1] not in ' \\' and line[c - 1] not in ' \\' and c + 1 < min(b, ls + len(line)) - ls:
                    col = c
                    break
            if col is None or col < len(indent) + 8:
                continue
            qcol = a - ls if a >= ls else None
            cont = (qcol + 1 if qcol + 1 < 60 else len(indent) + 4) if qcol is not None else len(indent)
            new = line[:col + 1] + '\\\n' + ' ' * cont + line[col + 1:]
            return src[:ls] + new + src[ls + len(line):]
    return None

def join(src, targets):
    """Puts every literal whose value is in `targets` back on one line (same value)."""
    out, last = [], 0
    for a, b, k in literals(src):
        if k != 'str':
            continue
        lit = src[a:b]
        if '\\\n' not in lit or value(lit) not in targets:
            continue
        out.append(src[last:a])
        out.append(re.sub(r'\\\n[ \t\r\n]*', '', lit))
        last = b
    out.append(src[last:])
    return ''.join(out)


def realign(src):
    """Aligns each continued literal's lines one column after its opening quote."""
    out, last = [], 0
    for a, b, k in literals(src):
        if k != 'str' or '\\\n' not in src[a:b]:
            continue
        want = a - (src.rfind('\n', 0, a) + 1) + 1
        parts = src[a:b].split('\\\n')
        rest = [p.lstrip(' ') for p in parts[1:]]
        inds = [len(p) - len(p.lstrip(' ')) for p in parts[1:]]
        if all(i >= want for i in inds) or want >= 60:
            continue
        tail = len(src[b:].split('\n', 1)[0])
        lens = [want + len(r.split('\n')[0]) + (1 if i < len(rest) - 1 else tail + 1)
                for i, r in enumerate(rest)]
        if max(lens) > MAX:
            continue
        out.append(src[last:a])
        out.append(parts[0] + ''.join('\\\n' + ' ' * want + r for r in rest))
        last = b
    out.append(src[last:])
    return ''.join(out)


def main():
    import glob, subprocess
    files = sorted(glob.glob('src/**/*.rs', recursive=True))
    start = {f: values(open(f).read()) for f in files}
    targets = set()
    for f in files:
        src = open(f).read()
        lines = src.split('\n')
        for a, b, k in literals(src):
            la, lb = src.count('\n', 0, a), src.count('\n', 0, b)
            if k == 'str' and any(len(lines[x]) > MAX for x in range(la, lb + 1)):
                targets.add(value(src[a:b]))
    for round in range(4):
        for f in files:
            src = open(f).read()
            new = join(src, targets)
            for _ in range(5000):
                nxt = wrap_once(new)
                if nxt is None:
                    break
                new = nxt
            if new != src:
                open(f, 'w').write(new)
        subprocess.run(['cargo', 'fmt'], check=True)
    for f in files:
        src = open(f).read()
        new = realign(src)
        if new != src:
            open(f, 'w').write(new)
    subprocess.run(['cargo', 'fmt'], check=True)
    for f in files:
        assert values(open(f).read()) == start[f], f'{f}: a literal changed'
        for n, line in enumerate(open(f).read().split('\n'), 1):
            if len(line) > MAX:
                print(f'{f}:{n}: {len(line)} columns, wrap by hand')


if __name__ == '__main__':
    main()
