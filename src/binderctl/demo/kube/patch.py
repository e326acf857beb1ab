"""The three patch formats of the Kubernetes API: strategic merge patch (built-in kinds),
JSON merge patch (RFC 7386) and JSON patch (RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

from binderctl.demo.kube.patchmeta import SET, MergeList, Schema

_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_SET_ORDER = "$setElementOrder/"
_DIRECTIVES = ("$patch", "$retainKeys")


class PatchError(Exception):
    """A patch that cannot be applied: ``code`` 400 (malformed) or 422 (does not fit)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- JSON merge patch (RFC 7386) -----------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch -------------------------------------------------------------
def _clean(value: Any, schema: Schema | MergeList | str | None = None) -> Any:
    """A patch value stored as is: directives removed from the maps inside it."""
    if isinstance(value, dict):
        merged = _merge_map({}, value, schema if isinstance(schema, dict) else {})
        return {} if merged is None else merged
    if isinstance(value, list):
        return [_clean(item) for item in value if not _is_directive(item)]
    return value


def _is_directive(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == {"$patch"}


def _order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = [i for w in wanted for i in items if ident(i) == w]
    return ranked + [i for i in items if ident(i) not in wanted]


def _merge_list(original: list[Any], patch: list[Any], meta: MergeList) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_clean(i, meta.item) for i in patch if not _is_directive(i)]
    result = [copy.deepcopy(i) for i in original]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(400, f"unable to find api field in struct for the item {item!r}")
        if meta.key not in item:
            raise PatchError(400, f"map: {item} does not contain declared merge key: {meta.key}")
        index = next(
            (
                n
                for n, o in enumerate(result)
                if isinstance(o, dict) and o.get(meta.key) == item[meta.key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_clean(item, meta.item))
        else:
            merged = _merge_map(result[index], item, meta.item)
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    return result


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], schema: Schema
) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: _clean(v, _sub(schema, k)) for k, v in patch.items() if k not in _DIRECTIVES}
    if directive is not None:
        raise PatchError(400, f"Unknown patch type: {directive}")
    result = copy.deepcopy(original)
    retain = patch.get("$retainKeys")
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(400, "invalid patch: $retainKeys must be a list")
        result = {k: v for k, v in result.items() if k in retain}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in _DIRECTIVES:
            continue
        if key.startswith(_DELETE_PRIMITIVE):
            name = key[len(_DELETE_PRIMITIVE) :]
            if not isinstance(value, list):
                raise PatchError(400, "invalid patch: $deleteFromPrimitiveList must be a list")
            result[name] = [i for i in result.get(name) or [] if i not in value]
            continue
        if key.startswith(_SET_ORDER):
            orders[key[len(_SET_ORDER) :]] = value
            continue
        if value is None:
            result.pop(key, None)
            continue
        sub = _sub(schema, key)
        current = result.get(key)
        if isinstance(value, dict):
            merged = _merge_map(
                current if isinstance(current, dict) else {},
                value,
                sub if isinstance(sub, dict) else {},
            )
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(sub, MergeList):
            result[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        elif isinstance(value, list) and sub == SET:
            merged_set = list(current) if isinstance(current, list) else []
            merged_set += [i for i in value if i not in merged_set]
            result[key] = merged_set
        else:
            result[key] = _clean(value)
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            sub = _sub(schema, name)
            result[name] = _order(
                result[name], order, sub.key if isinstance(sub, MergeList) else None
            )
    return result


def _sub(schema: Schema, key: str) -> Schema | MergeList | str:
    return schema.get(key, {})


def strategic_merge_patch(original: dict[str, Any], patch: Any, schema: Schema) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise PatchError(400, "the body of a strategic merge patch must be a JSON object")
    merged = _merge_map(original, patch, schema)
    if merged is None:
        raise PatchError(422, "the patch deleted the whole object")
    return merged


# -- JSON patch (RFC 6902) ---------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(400, f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, tokens: list[str], path: str) -> tuple[Any, str]:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise PatchError(422, f"doc is missing path: {path!r}")
    return node, tokens[-1]


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(422, f"doc is missing path: {path!r}")


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError(422, "cannot remove the whole document")
    parent, last = _parent(doc, tokens, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError(422, f"unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(422, f"replace operation does not apply: doc is missing key: {path}")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise PatchError(422, f"add operation does not apply: doc is missing path: {path!r}")
    else:
        raise PatchError(422, f"add operation does not apply: doc is missing path: {path!r}")
    return doc


def json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(400, f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(400, f"missing value for {kind} operation at {path!r}")
        match kind:
            case "add":
                doc = _add(doc, path, copy.deepcopy(op["value"]))
            case "remove":
                _remove(doc, path)
            case "replace":
                doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
            case "move":
                doc = _add(doc, path, _remove(doc, op.get("from", "")))
            case "copy":
                doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
            case "test":
                if _get(doc, path) != op["value"]:
                    raise PatchError(422, f"testing value {path} failed: test failed")
            case _:
                raise PatchError(400, f"Unexpected kind: {kind}")
    return doc
