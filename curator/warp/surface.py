"""The user-visible builtin surface of the pinned Warp: names, families and signatures, from its registry."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

# Warp's own `group` attribute (what its docs list functions under) -> curator's family name.
# "Other" holds lower_bound only and "Code Generation" holds static only: kept as their own families
# rather than folded into another one, so the per-family figures stay Warp's.
GROUP_FAMILY = {
    "Tile Primitives": "tile",
    "Scalar Math": "scalar_math",
    "Vector Math": "vector_math",
    "Geometry": "geometry",
    "Volumes": "volume",
    "Utility": "utility",
    "Random": "random",
    "Quaternion Math": "quaternion",
    "Operators": "operators",
    "Transformations": "transformations",
    "Spatial Math": "spatial",
    "Textures": "texture",
    "Other": "other",
    "Code Generation": "codegen",
}

DATA_PATH = Path(__file__).resolve().parent.parent / "kernels" / "data" / "warp_builtins.json"
_DEPRECATED_MARK = ".. deprecated::"


def _overloads(func: Any) -> list[Any]:
    return list(getattr(func, "overloads", None) or [func])


def is_visible(overload: Any) -> bool:
    """An overload Warp documents: not hidden, and not marked deprecated in its docstring."""
    return not overload.hidden and _DEPRECATED_MARK not in (overload.doc or "")


def _return_type(overload: Any) -> Any:
    # Same rule as Warp's stub writer: the type reported when optional type arguments are omitted.
    result = overload.value_type
    if overload.value_func is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = overload.value_func(None, None)
        except Exception:  # a value_func that needs real arguments; Warp's stub writer falls back the same way
            result = overload.value_type
    return result


def _type_text(t: Any) -> str:
    from warp._src.context import type_str

    # type_str prints Warp's private precision variants (_HashGridQueryH, ...) under their public name,
    # which would merge distinct visible overloads; keep the private name for those.
    name = getattr(t, "__name__", "")
    return name if isinstance(t, type) and name.startswith("_") else type_str(t)


def signature_text(name: str, overload: Any) -> str:
    """Stable text form of one overload: ``name(arg: type, ...) -> type``, in Warp's own type notation."""
    params = ", ".join(f"{arg}: {_type_text(t)}" for arg, t in overload.input_types.items())
    if overload.variadic:
        params += ", ..."
    result = _return_type(overload)
    if isinstance(result, (list, tuple)):
        returned = "(" + ", ".join(_type_text(t) for t in result) + ")"
    else:
        returned = "None" if result is None else _type_text(result)
    return f"{name}({params}) -> {returned}"


def family_of(overload: Any) -> str:
    try:
        return GROUP_FAMILY[overload.group]
    except KeyError:
        raise ValueError(f"Warp builtin group {overload.group!r} has no curator family (GROUP_FAMILY)") from None


def derive_surface() -> dict[str, Any]:
    """Every visible builtin of the installed Warp: family (of its first visible overload) and signatures."""
    import warp
    from warp._src.context import builtin_functions

    builtins = []
    for name in sorted(builtin_functions):
        visible = [o for o in _overloads(builtin_functions[name]) if is_visible(o)]
        if not visible:
            continue
        signatures: list[dict[str, str]] = []
        for overload in visible:
            text = signature_text(name, overload)
            if any(s["text"] == text for s in signatures):
                raise ValueError(
                    f"two visible overloads of {name} print as {text!r}; signature_text must tell them apart"
                )
            signatures.append({"text": text, "family": family_of(overload)})
        builtins.append({"name": name, "family": family_of(visible[0]), "signatures": signatures})
    return {"warp_version": warp.__version__, "builtins": builtins}


def render(surface: dict[str, Any]) -> str:
    return json.dumps(surface, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m curator.warp.surface", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DATA_PATH.name} from the installed Warp")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed table differs from Warp's")
    args = parser.parse_args(argv)
    text = render(derive_surface())
    if args.write:
        DATA_PATH.parent.mkdir(parents=True, exist_ok=True)
        tmp = DATA_PATH.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(DATA_PATH)
        print(f"wrote {DATA_PATH}")
    elif args.check:
        if not DATA_PATH.exists() or DATA_PATH.read_text() != text:
            print(f"{DATA_PATH} differs from the installed Warp; run python -m curator.warp.surface --write")
            return 1
        print(f"{DATA_PATH.name} matches the installed Warp")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
