#!/usr/bin/env python3
"""Executes every notebook of the series through Jupyter's own client (nbclient) on the real .NET Interactive
kernel (`.net-csharp`), at the smoke preset, the way a user's Jupyter runs them. Parameters are injected after
the cell tagged "parameters", as papermill does (and as `stag notebook run -p` does). Exits 1 if any cell of any
notebook produced an error output. Used by .ci/run; needs `dotnet interactive jupyter install` and Debian's
python3-nbclient, python3-nbformat and python3-ipykernel.

usage: run_notebooks.py <notebooks folder> <output folder> [Name=value ...]
"""
import copy, glob, os, re, sys, time

import nbformat
from nbclient import NotebookClient

DECLARATION = re.compile(r'^\s*(?:var|int|long|double|float|bool|string)\s+(\w+)\s*=\s*(.+?)\s*;\s*(?://.*)?$')


def literal(default, value):
    if default.startswith('"') or default.startswith('@"'):
        return '"' + value.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if default in ('true', 'false'):
        return value.lower()
    return value


def inject(nb, overrides):
    for i, cell in enumerate(nb.cells):
        if 'parameters' in cell.get('metadata', {}).get('tags', []):
            declared = {m.group(1): m.group(2) for m in map(DECLARATION.match, cell.source.split('\n')) if m}
            code = '\n'.join(f'{k} = {literal(declared[k], v)};' for k, v in overrides.items() if k in declared)
            if code:
                injected = nbformat.v4.new_code_cell('// Injected parameters\n' + code)
                injected.metadata = copy.deepcopy(cell.metadata)
                injected.metadata['tags'] = ['injected-parameters']
                nb.cells.insert(i + 1, injected)
            return


def main():
    folder, out = sys.argv[1], sys.argv[2]
    overrides = dict(a.split('=', 1) for a in sys.argv[3:])
    os.makedirs(out, exist_ok=True)
    failed = []
    for path in sorted(glob.glob(os.path.join(folder, '[0-9]*.ipynb'))):
        name = os.path.basename(path)
        nb = nbformat.read(path, as_version=4)
        inject(nb, overrides)
        started = time.time()
        client = NotebookClient(nb, kernel_name='.net-csharp', timeout=900, allow_errors=True,
                                resources={'metadata': {'path': os.path.abspath(folder)}})
        client.execute()
        errors = [(i + 1, o) for i, c in enumerate(nb.cells) if c.cell_type == 'code'
                  for o in c.get('outputs', []) if o.get('output_type') == 'error']
        nbformat.validate(nb)
        nbformat.write(nb, os.path.join(out, name))
        print(f'{name}: {len(errors)} error outputs, {time.time() - started:.0f} s', flush=True)
        for cell, o in errors:
            failed.append(name)
            print(f'  notebook {name}, cell {cell}: {o.get("ename")}: {o.get("evalue", "")[:500]}', flush=True)
    if failed:
        print(f'jupyter: {len(set(failed))} notebook(s) with errors', flush=True)
        sys.exit(1)
    print('jupyter: every notebook ran without an error output on the .net-csharp kernel', flush=True)


if __name__ == '__main__':
    main()
