#!/usr/bin/env python3
"""Executes every notebook of the series through Jupyter's own client (nbclient) on the real .NET Interactive
kernel (`.net-csharp`), at the smoke preset, the way a user's Jupyter runs them. Parameters are injected after
the cell tagged "parameters", as papermill does (and as `stag notebook run -p` does); an injected-parameters cell
of an earlier execution is replaced. Each executed notebook is then handed to `stag notebook stamp` (the one
definition of the stamp, shared with `stag notebook run`): it parses the kernel's string values of JSON mime types
(application/vnd.plotly.v1+json) into objects and stamps every code cell's source hash, preset, seeds and commit, so
`stag notebook check` accepts it. Exits 1 if any cell of any notebook produced an error output. Used by .ci/run;
needs `dotnet interactive jupyter install`, Debian's python3-nbclient, python3-nbformat and python3-ipykernel, and
stag built (`dotnet build -c Release`; STAG names another stag.dll).

usage: run_notebooks.py <notebooks folder> <output folder | --in-place> [Name=value ...]
       --in-place writes each executed notebook over itself (atomically), as committed notebooks are
"""
import copy, glob, os, re, subprocess, sys, time

import nbformat
from nbclient import NotebookClient

DECLARATION = re.compile(r'^\s*(?:var|int|long|double|float|bool|string)\s+(\w+)\s*=\s*(.+?)\s*;\s*(?://.*)?$')


def literal(default, value):
    if default.startswith('"') or default.startswith('@"'):
        return '"' + value.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if default in ('true', 'false'):
        return value.lower()
    return value


STAG = os.environ.get('STAG') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lib', 'Stag', 'bin',
                                               'Release', 'net10.0', 'stag.dll')


def clear_earlier_execution(nb):
    nb.cells = [c for c in nb.cells if 'injected-parameters' not in c.get('metadata', {}).get('tags', [])]
    for cell in nb.cells:
        cell.get('metadata', {}).pop('stag', None)
    nb.metadata.pop('stag', None)


def inject(nb, overrides):
    """Returns the overrides the parameters cell declares (the ones injected)."""
    for i, cell in enumerate(nb.cells):
        if 'parameters' in cell.get('metadata', {}).get('tags', []):
            declared = {m.group(1): m.group(2) for m in map(DECLARATION.match, cell.source.split('\n')) if m}
            applied = {k: v for k, v in overrides.items() if k in declared}
            code = '\n'.join(f'{k} = {literal(declared[k], v)};' for k, v in applied.items())
            if code:
                injected = nbformat.v4.new_code_cell('// Injected parameters\n' + code)
                injected.metadata = copy.deepcopy(cell.metadata)
                injected.metadata['tags'] = ['injected-parameters']
                nb.cells.insert(i + 1, injected)
            return applied
    return {}


def write_stamped(nb, path, applied, seconds):
    """Writes the executed notebook atomically, then `stag notebook stamp` parses its JSON mime strings and stamps it."""
    tmp = path + '.tmp'
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    command = ['dotnet', STAG, 'notebook', 'stamp', path, '--runner', 'nbclient', '--seconds', f'{seconds:.1f}']
    for k, v in applied.items():
        command += ['-p', f'{k}={v}']
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    nbformat.validate(nbformat.read(path, as_version=4))


def main():
    folder, out = sys.argv[1], sys.argv[2]
    in_place = out == '--in-place'
    overrides = dict(a.split('=', 1) for a in sys.argv[3:])
    if not in_place:
        os.makedirs(out, exist_ok=True)
    failed = []
    for path in sorted(glob.glob(os.path.join(folder, '[0-9]*.ipynb'))):
        name = os.path.basename(path)
        nb = nbformat.read(path, as_version=4)
        clear_earlier_execution(nb)
        applied = inject(nb, overrides)
        started = time.time()
        client = NotebookClient(nb, kernel_name='.net-csharp', timeout=900, allow_errors=True,
                                resources={'metadata': {'path': os.path.abspath(folder)}})
        client.execute()
        errors = [(i + 1, o) for i, c in enumerate(nb.cells) if c.cell_type == 'code'
                  for o in c.get('outputs', []) if o.get('output_type') == 'error']
        nbformat.validate(nb)
        write_stamped(nb, path if in_place else os.path.join(out, name), applied, time.time() - started)
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
