"""params.yaml in the form DVC writes it back, so that `dvc exp run -S KEY=VALUE` changes only
the lines of KEY.

`dvc exp run -S` (``dvc.utils.hydra.apply_overrides``) reads params.yaml with ruamel.yaml's
round-trip loader, applies the override to a plain copy of the data, merges the copy back (maps
key by key, so their comments and flow style stay; every list and value is replaced by a plain
one) and writes the whole file with DVC's dumper (``dvc.utils.serialize``: block lists, 80-column
lines, ``null`` as an empty value, quoting and spacing normalised). A file already in that form
comes back unchanged except for the edited value; any other file is rewritten wholesale, and an
experiment's diff cannot be reviewed. ``dvc_form`` runs that very code (two overrides that add
and remove a scratch key, on a copy), so the form is DVC's by construction, whatever its version;
``first_difference`` says where a file departs from it.
"""

from __future__ import annotations

from pathlib import Path

from actionbench.errors import ConfigError

FIX = "actionbench dvc-params --write"


SCRATCH_KEY = "actionbench_dvc_form_scratch"


def dvc_form(text: str, name: str = "params.yaml") -> str:
    """``text`` as DVC writes it back after a ``-S`` edit: DVC's ``-S`` code applied to a copy
    (add a scratch key, then remove it: each pass is DVC's read, merge and write)."""
    import tempfile

    from dvc.utils.hydra import apply_overrides

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / name
        copy.write_text(text)
        apply_overrides(copy, [f"+{SCRATCH_KEY}=0"])
        apply_overrides(copy, [f"~{SCRATCH_KEY}"])
        return copy.read_text()


def first_difference(text: str, name: str = "params.yaml") -> tuple[int, str, str] | None:
    """(line number, the file's line, DVC's line) of the first line DVC would rewrite, or None
    when the file is already in DVC's form."""
    ours, dvcs = text.splitlines(), dvc_form(text, name).splitlines()
    for number, (a, b) in enumerate(zip(ours, dvcs, strict=False), start=1):
        if a != b:
            return number, a, b
    if len(ours) != len(dvcs):
        n = min(len(ours), len(dvcs))
        return n + 1, *(lines[n] if len(lines) > n else "<end of file>" for lines in (ours, dvcs))
    return None


def check(path: str | Path) -> None:
    """Raise ``ConfigError`` naming the first line of ``path`` that DVC would rewrite."""
    path = Path(path)
    found = first_difference(path.read_text(), path.name)
    if found is not None:
        number, ours, dvcs = found
        raise ConfigError(
            f"{path}:{number} is not in the form DVC writes back, so `dvc exp run -S` would "
            f"rewrite the file, not one line:\n  file: {ours!r}\n  DVC:  {dvcs!r}\n"
            f"run `{FIX}` (it rewrites the file in DVC's form, comments kept)"
        )


def write(path: str | Path) -> bool:
    """Rewrite ``path`` in DVC's form; True when it changed."""
    path = Path(path)
    text = path.read_text()
    formatted = dvc_form(text, path.name)
    if formatted == text:
        return False
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(formatted)
    tmp.replace(path)
    return True
