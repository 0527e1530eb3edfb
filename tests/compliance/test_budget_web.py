"""The dashboard's budget page: examples, a pasted or uploaded scenario (CSRF), downloads, the chart."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from govkit import csrf_of, login, staff
from replayvault.web.app import create_app
from test_budget import HAND


@pytest.fixture
def client(rt) -> TestClient:  # type: ignore[no-untyped-def]
    c = TestClient(create_app(rt))
    staff(rt, "hana", ["hr_liaison"])
    assert login(c, "hana").status_code == 303
    return c


def test_the_first_example_is_planned_with_tables_chart_and_links(client: TestClient) -> None:
    r = client.get("/budget")
    assert r.status_code == 200
    assert "Mid-size EU crypto-bank" in r.text and "Cost per recorded session" in r.text
    assert 'href="/budget" class="on">Budget</a>' in r.text
    png = re.search(r'src="data:image/png;base64,([^"]+)"', r.text)
    assert png and base64.b64decode(png.group(1))[:4] == b"\x89PNG"
    assert "(<b>benchmark</b>)" in r.text  # an empty installation: the benchmark figures, and the page says so
    assert 'href="/budget/export?example=crypto-bank-mid-size&amp;format=csv"' in r.text
    assert "<script" not in r.text


def test_two_examples_side_by_side(client: TestClient) -> None:
    r = client.get("/budget", params=[("example", "crypto-bank-mid-size"), ("example", "large-bank")])
    assert r.status_code == 200
    assert "Scenarios side by side" in r.text and "Large EU bank" in r.text


def test_an_unknown_example_is_a_400_naming_it(client: TestClient) -> None:
    r = client.get("/budget", params={"example": "nope"})
    assert r.status_code == 400 and "no example scenario named &#39;nope&#39;" in r.text


def test_export_downloads(client: TestClient) -> None:
    r = client.get("/budget/export", params={"example": "large-bank", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="budget-large-bank.csv"'
    assert next(csv.reader(io.StringIO(r.text)))[:3] == ["scenario", "currency", "category"]
    r = client.get("/budget/export", params={"example": "large-bank", "format": "json"})
    assert r.json()["scenario"] == "Large EU bank"
    r = client.get("/budget/export", params={"example": "large-bank", "format": "png"})
    assert r.content[:4] == b"\x89PNG"


def test_a_pasted_scenario_is_planned(client: TestClient) -> None:
    token = csrf_of(client)
    r = client.post("/budget", data={"scenario": HAND, "csrf_token": token})
    assert r.status_code == 200
    assert "Hand-checked" in r.text and "430,030" in r.text and "157,892" in r.text
    # its downloads re-post the scenario: JSON totals as checked by hand in test_budget
    r = client.post("/budget", data={"scenario": HAND, "csrf_token": token, "format": "json"})
    assert r.json()["total"]["total"] == 430_029.6


def test_an_uploaded_scenario_is_planned(client: TestClient) -> None:
    r = client.post("/budget", data={"csrf_token": csrf_of(client), "scenario": ""},
                    files={"upload": ("hand.yaml", HAND.encode(), "application/yaml")})
    assert r.status_code == 200 and "430,030" in r.text


def test_a_bad_scenario_is_shown_naming_the_field(client: TestClient) -> None:
    r = client.post("/budget", data={"scenario": HAND.replace("fte_share: 0.5", "fte_share: 2"),
                                     "csrf_token": csrf_of(client)})
    assert r.status_code == 400
    assert "scenario field staff.0.fte_share: Input should be less than or equal to 1" in r.text


def test_posting_without_the_csrf_token_is_refused(client: TestClient) -> None:
    r = client.post("/budget", data={"scenario": HAND})
    assert r.status_code == 403


def test_roles_without_budget_read_are_refused(rt, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    ux = staff(rt, "uma", ["ux_analyst"])
    r = TestClient(client.app).get("/budget", headers=ux.headers)
    assert r.status_code == 403


@pytest.mark.browser
def test_the_page_in_chromium_shows_the_chart_under_the_csp(rt, live_server, chromium) -> None:  # type: ignore[no-untyped-def]
    from conftest import block_outside
    from staff import browser_login

    who = staff(rt, "carla", ["compliance_lead"])
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    block_outside(context)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        browser_login(page, live_server, who)
        page.goto(f"{live_server}/budget?example=large-bank", wait_until="domcontentloaded")
        img = page.locator("figure.budget-chart img")
        assert img.evaluate("i => i.complete && i.naturalWidth") > 500
        # a pasted scenario, then its JSON download (a form that re-posts the scenario with the CSRF token)
        page.fill("form.budget-own textarea", HAND)
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.click("form.budget-own button")
        assert "430,030" in page.locator("main").inner_text()
        with page.expect_download() as download:
            page.click(".downloads form:nth-of-type(2) button")
        assert '"total": 430029.6' in download.value.path().read_text()
        assert problems == []
    finally:
        context.close()
