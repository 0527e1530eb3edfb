"""The DOM rules: serialized nodes (full snapshots, ``adds`` of mutations), their attributes and
Input events, applied by the masker (:mod:`.masking`, whose docstring lists the rules).

Every node is registered in the session's node map (:class:`~.state.MaskState`) with the flags
that later events depend on: a text node inherits masking from its ancestors (``rr-mask``, a
policy mask selector, a textarea, an option or a contenteditable element); the content of a
blocked element is dropped and remembered as dropped.

Attributes of a masked element (``rr-mask``, a policy mask selector, or inside one; in a snapshot,
an added node or an attribute mutation) are masked like its text (every non-space character becomes
``*``, counted as ``text_mask``): ``title``, ``alt``, ``placeholder``, ``aria-label``,
``aria-valuetext``, ``data-*`` and any other attribute, except

* the layout and structure attributes of :data:`LAYOUT_ATTRIBUTES` (``class``, ``id``, ``type``,
  ``width``, ``height``, ``role``, ``name``, ``for``, ``rel``, ``tabindex``, ``lang``, boolean
  states, id references such as ``aria-labelledby``, SVG geometry…), kept as page structure;
* URL attributes (``href``, ``src``, ``srcset``…: the URL rules), CSS (``style``: the CSS rules),
  rrweb's own ``rr_*`` attributes, and form values (``value`` of input/textarea/select/option,
  an option's ``label``: masked whole by the form rules).

An element already in the node map that becomes masked later keeps the attributes stored before
(like its text: ``late_mask``); its attribute mutations from then on are masked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..rrweb import NodeType
from . import sanitize
from ._text import is_masked, is_masked_text, mask_non_space
from .payloads import scrub_payload
from .residual import worth_scanning
from .state import Flag, NodeInfo
from .urls import SRCSET_ATTRIBUTES, URL_ATTRIBUTES, is_url_with_query, refresh_url_span, scrub_srcset

if TYPE_CHECKING:
    from .masking import Masker

__all__ = ["LABEL_INPUT_TYPES", "LAYOUT_ATTRIBUTES", "MASKED_TAG", "attributes", "drop_children", "input_event", "marks",
           "tree"]

#: Input types whose ``value`` is a visible label, not something the user typed.
LABEL_INPUT_TYPES = frozenset({"button", "submit", "reset", "checkbox", "radio"})
#: Attributes never scanned by detectors (inline image data).
UNSCANNED_ATTRIBUTES = frozenset({"rr_dataurl"})
#: Attributes holding CSS (rrweb's inlined stylesheet text, inline styles).
CSS_ATTRIBUTES = frozenset({"_csstext", "style"})
#: Tag that replaces a tag name in which a detector fired (a valid custom element name).
MASKED_TAG = "rv-masked"
_INPUT_TAGS = frozenset({"input", "textarea", "select", "option"})
#: Attributes of a masked element kept as they are (module docstring): layout and structure, not text.
LAYOUT_ATTRIBUTES = frozenset({
    "class", "id", "type", "width", "height", "role", "name", "for", "form", "rel", "tabindex", "dir", "lang",
    "translate", "slot", "part", "is", "hidden", "disabled", "checked", "selected", "readonly", "required",
    "multiple", "open", "autofocus", "novalidate", "draggable", "spellcheck", "contenteditable", "inputmode",
    "enterkeyhint", "autocomplete", "autocapitalize", "method", "enctype", "target", "media", "sizes",
    "crossorigin", "referrerpolicy", "loading", "decoding", "charset", "http-equiv", "colspan", "rowspan",
    "span", "scope", "headers", "size", "cols", "rows", "wrap", "min", "max", "step", "maxlength", "minlength",
    "align", "valign", "border", "cellpadding", "cellspacing", "frameborder", "allow", "sandbox", "list",
    "aria-hidden", "aria-expanded", "aria-selected", "aria-checked", "aria-pressed", "aria-disabled",
    "aria-haspopup", "aria-controls", "aria-labelledby", "aria-describedby", "aria-owns", "aria-live",
    "aria-atomic", "aria-busy", "aria-current", "aria-modal", "aria-orientation", "aria-level",
    "aria-multiselectable", "aria-readonly", "aria-required", "aria-invalid", "aria-sort", "aria-autocomplete",
    "aria-activedescendant", "data-rr-is-password", "xmlns", "xmlns:xlink", "viewbox", "preserveaspectratio",
    "d", "fill", "stroke", "stroke-width", "transform", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r",
    "rx", "ry", "points", "opacity", "fill-rule", "clip-rule", "version", "focusable",
})
#: Keys of a serialized node that the node rules handle; any other key goes to :mod:`.residual`.
_NODE_KEYS = frozenset({"type", "id", "tagName", "attributes", "childNodes", "textContent", "isStyle", "isSVG",
                        "needBlock", "rootId", "isShadowHost", "isShadow", "compatMode", "isCustom"})
_TEXT_TAGS = {NodeType.Text: "#text", NodeType.CDATA: "#cdata", NodeType.Comment: "#comment"}


def _int_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def tree(m: Masker, root: dict[str, Any], parent_id: int | None, context: int) -> None:
    """Mask a serialized node and its subtree in place; register every node in the state."""
    stack: list[tuple[dict[str, Any], int | None, int]] = [(root, parent_id, context)]
    while stack:
        node, pid, ctx = stack.pop()
        nid = _int_id(node.get("id"))
        ntype = node.get("type")
        if not node.keys() <= _NODE_KEYS:
            m.rest(node, _NODE_KEYS)
        if ntype == NodeType.Element:
            flags = element(m, node, nid, pid, ctx)
            if flags is None:
                continue
        elif ntype in _TEXT_TAGS:
            text_node(m, node, nid, pid, ctx)
            continue
        else:
            flags = ctx
        children = node.get("childNodes")
        if not isinstance(children, list) or not children:
            continue
        if flags & Flag.BLOCKED:
            drop_children(m, children, nid, Flag.DROPPED | (flags & Flag.PAGE_BLOCK))
            node["childNodes"] = []
            m.count("blocked_in_clear" if flags & Flag.PAGE_BLOCK else "blocked", nid, "children")
            continue
        child_ctx = flags & Flag.INHERITED
        if flags & (Flag.TEXTAREA | Flag.OPTION | Flag.EDITABLE):
            child_ctx |= Flag.VALUE_TEXT | (flags & Flag.OPTION)  # OPTION: an option's label, a choice
        for child in reversed(children):
            if isinstance(child, dict):
                stack.append((child, nid, child_ctx))


def element(m: Masker, node: dict[str, Any], nid: int | None, pid: int | None, ctx: int) -> int | None:
    """Mask one element in place; return its flags, or None when it was replaced (script)."""
    tag = node.get("tagName")
    tag = tag.lower() if isinstance(tag, str) else ""
    attrs = node.get("attributes")
    attrs = attrs if isinstance(attrs, dict) else None
    if tag == "script":
        children = node.get("childNodes")
        if isinstance(children, list):
            drop_children(m, children, nid, Flag.SCRIPT)
        node.clear()
        node.update(sanitize.script_placeholder(nid))
        if nid is not None:
            m.state.put(nid, "script", None, pid, Flag.SCRIPT)
        m.count("script", nid, "element")
        return None
    if worth_scanning(tag) and m.detect(tag, nid, "tag") != tag:
        node["tagName"] = tag = MASKED_TAG
    flags = ctx & Flag.INHERITED
    flags |= {"textarea": Flag.TEXTAREA, "select": Flag.SELECT, "option": Flag.OPTION}.get(tag, 0)
    input_type = None
    if attrs:
        flags |= marks(m, tag, attrs)
        if "rr_width" in attrs or "rr_height" in attrs:
            flags |= Flag.BLOCKED | Flag.PAGE_BLOCK  # rrweb's placeholder for a blocked element
        input_type = _lower(attrs.get("type"))
        if tag == "input" and (input_type == "password" or "data-rr-is-password" in attrs):
            flags |= Flag.PASSWORD
    info = m.state.put(nid, tag, input_type, pid, flags) if nid is not None else NodeInfo(tag, input_type, pid, flags)
    if attrs:
        if tag == "link" and sanitize.is_resource_hint(attrs.get("rel")):
            info.flags |= Flag.HINT
            if attrs.pop("href", None) is not None:
                m.count("resource_hint", nid, "attribute:href")
        attributes(m, attrs, info, nid, "attribute:", masked=bool(flags & Flag.MASKED))
    return info.flags


def marks(m: Masker, tag: str, attrs: dict[str, Any], change: bool = False) -> int:
    """Flags an element gets from its attributes: ``rr-mask``/``rr-block`` classes, policy
    selectors (``change``: ``attrs`` is an attribute mutation, see ``Selector.matches_change``),
    contenteditable."""
    flags = _class_flags(attrs.get("class"))
    match = (lambda s: s.matches_change(tag, attrs)) if change else (lambda s: s.matches(tag, attrs))
    if any(match(sel) for sel in m.block_selectors):
        flags |= Flag.BLOCKED  # the project's policy blocks it, whatever the browser did
    elif any(match(sel) for sel in m.mask_selectors):
        flags |= Flag.MASKED
    editable = attrs.get("contenteditable")
    if editable is True or (isinstance(editable, str) and editable.strip().lower() != "false"):
        flags |= Flag.EDITABLE  # "", "true", "plaintext-only" (HTML: the attribute's states)
    return flags


def text_node(m: Masker, node: dict[str, Any], nid: int | None, pid: int | None, ctx: int) -> None:
    """Mask a text, CDATA or comment node in place and register it (page text is noted for joins)."""
    if nid is not None:
        m.state.saw(nid)
    value = node.get("textContent")
    if value is not None and not isinstance(value, str):
        node["textContent"] = value = ""  # not an rrweb shape: drop what cannot be checked
    parent = m.state.get(pid)  # rrweb marks the text of <style> only; elsewhere the mark is ignored
    style = bool(node.get("isStyle")) and parent is not None and parent.tag == "style"
    if style:
        ctx &= ~Flag.MASKED  # like rrweb: rr-mask never masks CSS text (detectors still run)
    flags = ctx
    if isinstance(value, str) and value:
        if is_masked_text(value):
            flags |= Flag.MASKED  # masked by the browser (maskTextClass / maskAllText)
            m.count("text_mask", nid, "text", browser=True)
        if style:
            node["textContent"] = m.css(value, nid, "text:css")
        else:
            node["textContent"] = m.text(value, ctx, nid, "text")
    if nid is not None:
        tag = "#style" if style else _TEXT_TAGS[node["type"]]
        if m.state.put(nid, tag, None, pid, flags).prose:
            m.note_text(nid, node, "textContent")


def drop_children(m: Masker, children: list[Any], parent: int | None, flag: int) -> None:
    """Register dropped nodes so later mutations into them are dropped too."""
    stack = [(c, parent) for c in children]
    while stack:
        node, pid = stack.pop()
        if not isinstance(node, dict):
            continue
        nid = _int_id(node.get("id"))
        if nid is not None:
            m.state.put(nid, _lower(node.get("tagName")) or "#node", None, pid, flag)
        kids = node.get("childNodes")
        if isinstance(kids, list):
            stack.extend((k, nid) for k in kids)


def attributes(m: Masker, attrs: dict[str, Any], info: NodeInfo | None, nid: int | None, where: str,
               masked: bool | None = None) -> None:
    """Sanitize and mask an attribute dict in place (snapshot node or attribute mutation);
    ``masked``: the element is masked (default: its flags say so, module docstring)."""
    if masked is None:
        masked = info is not None and info.has(Flag.MASKED)
    for name in list(attrs):
        value = attrs[name]
        lname = name.lower() if isinstance(name, str) else ""
        if sanitize.is_event_handler(lname):
            del attrs[name]
            if value is not None:
                m.count("event_handler", nid, where + lname)
            continue
        if lname in sanitize.REMOVED_ATTRIBUTES:
            del attrs[name]
            if value is not None:
                m.count("srcdoc", nid, where + lname)
            continue
        if sanitize.is_refresh(lname, value):
            del attrs[name]
            m.count("meta_refresh", nid, where + lname)
            continue
        if worth_scanning(lname) and m.detect(lname, nid, where + "name") != lname:
            del attrs[name]  # personal data in the name itself: no valid masked name to keep
            continue
        if isinstance(value, dict):  # rrweb 2 style diff: {"style": {"prop": "value" | ["value", "important"] | false}}
            scrub_payload(m, value, css=True)
            continue
        if not isinstance(value, (str, type(None), bool, int, float)):
            del attrs[name]  # no rrweb attribute value has this shape
            continue
        if masked and isinstance(value, (int, float)) and not isinstance(value, bool) and _text_attribute(lname):
            attrs[name] = _mask_text(m, str(value), nid, where + lname)  # a number shown as text
            continue
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**8:
            attrs[name] = m.number(value) or value  # a number attribute is page text too
            continue
        if isinstance(value, str) and value:
            new = attribute(m, lname, value, info, nid, where + lname, masked)
            if new is None:
                del attrs[name]
            else:
                attrs[name] = new


def attribute(m: Masker, lname: str, value: str, info: NodeInfo | None, nid: int | None, where: str,
              masked: bool = False) -> str | None:
    """The masked value of one non-empty string attribute (None: remove it); ``masked``: of a masked element."""
    if lname in sanitize.JAVASCRIPT_URL_ATTRIBUTES and sanitize.is_javascript_url(value):
        m.count("javascript_url", nid, where)
        return sanitize.SAFE_URL
    if lname == "value" and is_masked(value):
        if info is not None:
            info.flags |= Flag.MASKED  # the browser masked it: keep masking it
        m.count(_value_kind(info) or "input_value", nid, where, browser=True)
        return value
    if lname == "value" and (kind := _value_kind(info)) is not None:
        return m.form_value(value, kind, info, nid, where)
    if lname == "label" and info is not None and info.flags & Flag.OPTION:
        return m.form_value(value, "input_value", info, nid, where)  # shown instead of the text
    if lname in URL_ATTRIBUTES:
        return m.url(value, nid, where)
    if lname in SRCSET_ATTRIBUTES:
        value, n = scrub_srcset(value)
        if n:
            m.count("url_query", nid, where, n=n)
        return m.detect(value, nid, where)
    if lname == "rr_dataurl":
        if m.policy.canvas:
            return value
        m.count("canvas", nid, where)  # a canvas's pixels: dropped unless the policy allows canvas
        return None
    if lname in CSS_ATTRIBUTES:
        return m.css(value, nid, where)
    if masked and _text_attribute(lname):
        return _mask_text(m, value, nid, where)
    if lname == "content" and (span := refresh_url_span(value)) is not None:  # <meta http-equiv=refresh>
        start, end = span
        return value[:start] + m.url(value[start:end], nid, where + ":url") + value[end:]
    if is_url_with_query(value):
        return m.url(value, nid, where + ":url")
    return value if lname in UNSCANNED_ATTRIBUTES else m.detect(value, nid, where)


def input_event(m: Masker, data: dict[str, Any]) -> None:
    """An Input event: its ``text`` is a form value (a ticked box's value is a choice)."""
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        data["text"] = ""  # rrweb sends a string; anything else cannot be checked, so it is dropped
        return
    if not text:
        return
    nid = _int_id(data.get("id"))
    info = m.state.get(nid)
    kind = "password" if info is not None and info.has(Flag.PASSWORD) else "input_value"
    if info is not None and info.tag == "input" and info.input_type in ("checkbox", "radio") and kind != "password":
        kind = "choice_value"  # the value of a ticked box is a label, not something typed
    data["text"] = m.form_value(text, kind, info, nid, "input")


def _text_attribute(lname: str) -> bool:
    """Whether a masked element's attribute is masked as text (module docstring)."""
    return not (lname in LAYOUT_ATTRIBUTES or lname in URL_ATTRIBUTES or lname in SRCSET_ATTRIBUTES
                or lname in CSS_ATTRIBUTES or lname.startswith("rr_"))


def _mask_text(m: Masker, value: str, nid: int | None, where: str) -> str:
    """A masked element's text attribute: like its text (rrweb's maskTextFn), counted as ``text_mask``."""
    new = mask_non_space(value)
    if new != value:
        m.count("text_mask", nid, where)
    return new


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _class_flags(value: Any) -> int:
    if not isinstance(value, str) or "rr-" not in value:
        return 0
    classes = value.split()
    return (Flag.BLOCKED | Flag.PAGE_BLOCK if "rr-block" in classes else 0) | (Flag.MASKED if "rr-mask" in classes else 0)


def _value_kind(info: NodeInfo | None) -> str | None:
    """Masking kind for a ``value`` attribute of this node, or None when it is not a form value."""
    if info is None:
        return "input_value"  # unknown node (state lost?): assume the worst
    if info.flags & Flag.PASSWORD:
        return "password"
    if info.tag not in _INPUT_TAGS:
        return None
    if info.tag == "input" and info.input_type in LABEL_INPUT_TYPES and not info.flags & Flag.MASKED:
        return None
    if info.tag == "option" and not info.flags & Flag.MASKED:
        # an option's value is the site's own choice key (rrweb never masks it; the selected one is
        # the customer's choice): masked as a choice, sanitizing, not an incident
        return "choice_value"
    return "input_value"
