"""The dashboard in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.app import create_app
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, LiveServer, chromium_path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def dashboard(pipeline, settings, demo_site) -> Iterator[str]:
    pipeline.crawl(demo_site.site.sources())
    with LiveServer(create_app(settings, pipeline.store)) as server:
        yield server.url


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(f"{url}/login?next=/")
    page.get_by_label("Tên đăng nhập").fill("admin")
    page.get_by_label("Mật khẩu").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Hàng chờ xem xét")).to_be_visible()


def test_reviewer_triages_the_queue_in_a_browser(browser, dashboard, tmp_path: Path):
    page = browser.new_page(locale="vi-VN", viewport={"width": 1280, "height": 900})
    sign_in(page, dashboard)
    rows = page.locator("table.queue tbody tr")
    assert rows.count() >= 5
    page.screenshot(path=tmp_path / "queue.png", full_page=True)
    first_title = rows.first.locator("a.item-link").inner_text()
    expect(rows.first.locator(".reasons li").first).to_be_visible()

    rows.first.locator("a.item-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_title[:20])
    assert page.locator("section.text mark, h1 mark").count() >= 1  # evidence highlighted
    page.screenshot(path=tmp_path / "item.png", full_page=True)

    page.get_by_role("button", name="Nhận xử lý").click()
    expect(page.locator("p.holder")).to_contain_text("admin")
    expect(page.locator("aside.review h2 .badge").first).to_have_text("Đang xem xét")
    page.get_by_label("Sai sự thật").check()
    page.get_by_label("Ghi chú, căn cứ").fill("Sở TT&TT đã có thông tin chính thức bác bỏ.")
    page.get_by_label("Đường dẫn bằng chứng").fill("https://lamdong.gov.vn/bac-bo")
    page.get_by_role("button", name="Ghi nhận", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Đã ghi nhận quyết định.")
    expect(page.locator("p.decided")).to_contain_text("Sai sự thật")
    expect(page.get_by_role("button", name="Nhận xử lý")).to_have_count(0)  # locked

    # Escalated to the police, who answer officially; the history tells every step.
    page.get_by_label("Cơ quan nhận").fill("Công an tỉnh Lâm Đồng")
    page.get_by_role("button", name="Chuyển cơ quan chức năng").click()
    expect(page.locator("p.escalated")).to_contain_text("Công an tỉnh Lâm Đồng")
    page.get_by_label("Đường dẫn phản hồi").fill("https://congan.lamdong.gov.vn/bac-bo")
    page.get_by_label("Thời gian đăng").fill("2026-11-26T09:30")
    page.get_by_role("button", name="Ghi nhận phản hồi chính thức").click()
    expect(page.locator("p.responded")).to_contain_text("09:30 26/11/2026")
    expect(page.locator("ol.history li")).to_have_count(4)

    # Correcting the topics: the corrected set is shown as the reviewer's from then on.
    page.get_by_label("Du lịch").check()
    page.get_by_role("button", name="Lưu chủ đề").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi nhận chủ đề")
    expect(page.locator("form.topics legend")).to_contain_text("đã sửa: admin")
    expect(page.get_by_label("Du lịch")).to_be_checked()

    page.goto(dashboard + "/")
    assert first_title not in page.locator("table.queue").inner_text()

    # Bulk "not relevant" for the two items at the bottom of the page.
    total = page.locator("h1 .count").inner_text()
    boxes = page.locator("table.queue tbody input[type=checkbox]")
    boxes.nth(boxes.count() - 1).check()
    boxes.nth(boxes.count() - 2).check()
    page.get_by_role("button", name="Không liên quan").click()
    expect(page.get_by_role("status")).to_contain_text("cho 2 tin")
    assert page.locator("h1 .count").inner_text() != total
    page.goto(dashboard + "/?state=decided")
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.goto(dashboard + "/?state=responded")
    expect(page.locator("table.queue a.item-link")).to_have_text([first_title])
    page.goto(dashboard + "/?overdue=1&mine=1")
    expect(page.locator("p.empty")).to_be_visible()

    page.goto(dashboard + "/search?q=thu+hoi+dat")
    expect(page.locator("ol.results li").first).to_be_visible()
    assert page.locator("ol.results mark").count() >= 1

    page.goto(dashboard + "/trends")
    assert page.locator("svg.chart rect").count() >= 1
    page.screenshot(path=tmp_path / "trends.png", full_page=True)


def test_forms_without_the_csrf_token_are_refused(browser, dashboard):
    page = browser.new_page()
    sign_in(page, dashboard)
    response = page.request.post(dashboard + "/logout", form={"csrf": "forged"})
    assert response.status == 403


# Every violation the page reports, collected from before its first script could run.
REPORT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
MAIN_PAGES = [
    "/",
    "/?state=decided",
    "/search?q=thu+hoi+dat",
    "/trends",
    "/trends?dimension=sentiment&interval=hour",
    "/claims",
    "/watchlists",
    "/account",
    "/admin/users",
    "/admin/audit",
    "/sources",
]


def test_the_pages_need_nothing_the_content_security_policy_forbids(browser, dashboard):
    """The policy forbids inline script and style: every main page renders without the
    browser reporting a violation (and the listener does report one when there is)."""
    with httpx.Client(
        base_url=dashboard, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as api:
        claim = api.post("/api/claims", json={"statement": "Tin đồn", "verdict": "false"}).json()
    page = browser.new_page(locale="vi-VN")
    page.add_init_script(REPORT_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, dashboard)
    item = page.locator("table.queue a.item-link").first.get_attribute("href")
    for path in [*MAIN_PAGES, item, f"/claims/{claim['id']}"]:
        response = page.goto(dashboard + path)
        assert response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.evaluate("window.cspViolations") == [], path
    assert not [text for text in console if "Content Security Policy" in text]
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i style=\"color: red\"></i>')")
    page.wait_for_function("window.cspViolations.length > 0")  # the listener works
