"""Baseline predictions, so a score means something: the stored code (``reference``), another
train record's code of the same category with its names rewritten (``shuffled``), and the code
of the nearest train record by MinHash of the source, names rewritten (``retrieval``); and the
no-op body an informative record's reference must tell apart."""

from __future__ import annotations

import hashlib
import re

from curator.eval.prompts import target_pieces

BASELINES = ("reference", "shuffled", "retrieval")
_MANGLED = re.compile(r"\b(\w+?)_(?:cpu|cuda)_kernel_(?:forward|backward)\b")


def mangled_name(pieces: dict) -> str:
    """The kernel's name as its generated code spells it (``NAME_HASH``)."""
    m = _MANGLED.search(pieces["forward"])
    return m.group(1) if m else ""


_FIELD = re.compile(r"^\s+([^;\n]*?)\s+(\w+);$", re.M)  # a CPU argument struct's field: type, name
_PARAM = re.compile(r"^\s+(.+?)\s+var_(\w+)\s*[,)]", re.M)  # a CUDA kernel's parameter line


def params(pieces: dict) -> list[tuple[str, str]]:
    """The kernel's parameters in order, (C++ type, name): the CPU argument struct's fields, or
    the CUDA kernel's parameters (``TYPE var_NAME``)."""
    if pieces.get("args"):
        return _FIELD.findall(pieces["args"])
    forward = pieces["forward"]
    return _PARAM.findall(forward[: forward.find("\n{")])


def param_map(donor: dict, record: dict) -> dict[str, str]:
    """Donor parameter -> record parameter: the same name and type first, then the first free one
    of the same type, then what is left position by position."""
    theirs, ours = params(donor["pieces"]), params(record["pieces"])
    free = list(ours)
    out: dict[str, str] = {}
    for rule in (lambda d, o: d == o, lambda d, o: d[0] == o[0], lambda d, o: True):
        for d in theirs:
            if d[1] in out:
                continue
            o = next((o for o in free if rule(d, o)), None)
            if o is not None:
                out[d[1]] = o[1]
                free.remove(o)
    return out


def renamed(code: str, donor: dict, record: dict) -> str:
    """``code`` of ``donor`` with its names made ``record``'s: the kernel's (functions, argument
    struct) and its parameters (``param_map``: ``var_x``, ``adj_x``, ``args->x``)."""
    old, new = mangled_name(donor["pieces"]), mangled_name(record["pieces"])
    if old:
        code = re.sub(rf"\b(wp_args_)?{re.escape(old)}(?=_|\W|$)", lambda m: (m.group(1) or "") + new, code)
    pairs = {a: b for a, b in param_map(donor, record).items() if a != b}
    if not pairs:
        return code
    names = "|".join(re.escape(a) for a in sorted(pairs, key=len, reverse=True))
    pattern = re.compile(rf"(\b(?:var|adj)_|(?<=->)|(?<=\.))({names})\b")
    return pattern.sub(lambda m: m.group(1) + pairs[m.group(2)], code)


def noop(code: str) -> str:
    """The function of ``code`` with an empty body (its signature kept)."""
    at = code.find("\n{")
    return code if at < 0 else code[:at] + "\n{\n}\n"


def _order(record_id: str, other: dict) -> str:
    return hashlib.sha256(f"{record_id}:{other['id']}".encode()).hexdigest()


def shuffled_donor(record: dict, train: list[dict], target: str) -> dict | None:
    """A train record of the same category with every target piece (another kernel), chosen
    by a hash of both ids, so the choice is stable."""
    wanted = target_pieces(target)
    pool = [
        t
        for t in train
        if t["category"] == record["category"] and t["id"] != record["id"] and all(t["pieces"][p] for p in wanted)
    ]
    return min(pool, key=lambda t: _order(record["id"], t)) if pool else None


class Retrieval:
    """The nearest train record of each query by estimated Jaccard of the MinHash signatures of
    the normalised sources (``curator.neardup``)."""

    def __init__(self, train: list[dict], target: str):
        from curator import neardup

        wanted = target_pieces(target)
        self.train = [t for t in train if all(t["pieces"][p] for p in wanted)]
        self._values, _ = neardup.hashvalues_of_blobs([neardup.signature(t["source"]) for t in self.train])

    def nearest(self, record: dict) -> dict | None:
        from curator import neardup

        if not self.train:
            return None
        query, _ = neardup.hashvalues_of_blobs([neardup.signature(record["source"])])
        sims = neardup.estimated_jaccard(self._values, query[0])
        order = sorted(range(len(self.train)), key=lambda i: (-float(sims[i]), self.train[i]["id"]))
        return next((self.train[i] for i in order if self.train[i]["id"] != record["id"]), None)


def baseline_pieces(kind: str, record: dict, target: str, train: list[dict], retrieval: Retrieval | None) -> dict:
    """The target pieces the ``kind`` baseline predicts for ``record`` ('' when it has no donor)."""
    wanted = target_pieces(target)
    if kind == "reference":
        return {p: record["pieces"][p] for p in wanted}
    if kind == "shuffled":
        donor = shuffled_donor(record, train, target)
    else:
        assert retrieval is not None, "the retrieval baseline needs its index"
        donor = retrieval.nearest(record)
    if donor is None:
        return {p: "" for p in wanted}
    return {p: renamed(donor["pieces"][p], donor, record) for p in wanted}
