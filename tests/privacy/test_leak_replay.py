"""The masked leak-class fixtures still replay in rrweb-player without errors (headless Chromium)."""

from __future__ import annotations

import json

import pytest

from conftest import block_outside
from replayvault.pipeline import Batch, SessionState, process_batch

from .leak_fixtures import FIXTURES


@pytest.mark.browser
def test_masked_fixtures_replay_in_rrweb_player(live_server, chromium) -> None:
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_content(f"""<!doctype html><html><head>
        <link rel="stylesheet" href="{live_server}/static/vendor/rrweb-player.css">
        <script src="{live_server}/static/vendor/rrweb-player.umd.js"></script></head>
        <body><div id="p"></div></body></html>""", wait_until="load")
    for name, events, _secret in FIXTURES:
        out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
        replayable = out.events + [{"type": 5, "timestamp": 9000, "data": {"tag": "end", "payload": {}}}]
        ok = page.evaluate("""(events) => {
            const root = document.getElementById('p'); root.innerHTML = '';
            const P = window.rrwebPlayer.default || window.rrwebPlayer;
            const player = new P({target: root, props: {events, width: 800, height: 450, autoPlay: false,
                                                        showWarning: false, UNSAFE_replayCanvas: false}});
            player.getReplayer().pause(1500);
            return !!root.querySelector('iframe');
        }""", json.loads(json.dumps(replayable)))
        assert ok, name
        page.wait_for_timeout(100)
    context.close()
    assert errors == []
