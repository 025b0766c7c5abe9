"""The HTML report in headless Chromium (Debian's ``chromium``): every figure loads (``naturalWidth > 0``), no
console errors, and a screenshot is saved under the test's tmp directory (for the report of the session's shared
pipeline run and for reports rendered from synthetic inputs).

No extra Python packages: a copy of the report gets a small self-test script that writes its findings into a
``<pre id="selftest">``, which ``chromium --dump-dom`` prints; console messages come from Chromium's own log
(``--enable-logging=stderr``). The report itself carries no script.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compval.present.html import render_report
from compval.i18n import language

from test_report import synthetic_figures, synthetic_summary, synthetic_tables

CHROMIUM = next(
    (
        p
        for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
        if p and Path(p).exists()
    ),
    None,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)",
)

SELFTEST = """<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push("error: " + (e.message || e.type)); }, true);
  var origError = console.error;
  console.error = function () { errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
                                origError.apply(console, arguments); };
  window.addEventListener("load", function () {
    var imgs = Array.prototype.slice.call(document.images);
    var out = {
      images: imgs.length,
      loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; }).length,
      broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) {
        return i.closest("figure") ? i.closest("figure").id : i.alt; }),
      errors: errors,
      sections: document.querySelectorAll("section").length,
      tables: document.querySelectorAll("table").length,
      lang: document.documentElement.lang,
      headings: Array.prototype.map.call(document.querySelectorAll("h1, h2"), function (h) {
        return h.textContent; })
    };
    var pre = document.createElement("pre");
    pre.id = "selftest";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
</script>"""


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def check_in_browser(report: Path, screenshot: Path, work: Path) -> dict:
    """Open a self-test copy of ``report`` in Chromium; return the self-test record; save a screenshot of the
    report itself."""
    html = report.read_text(encoding="utf-8")
    test_copy = work / "report_selftest.html"
    test_copy.write_text(html.replace("<head>", "<head>\n" + SELFTEST, 1), encoding="utf-8")
    r = _chromium(work / "profile-dom", "--virtual-time-budget=10000", "--dump-dom", test_copy.as_uri())
    m = re.search(r'<pre id="selftest">(.*?)</pre>', r.stdout, re.S)
    assert m, f"no self-test output from Chromium (exit {r.returncode}): {r.stderr[-2000:]}"
    record = json.loads(
        m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )
    record["console"] = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]  # the report logs nothing
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    s = _chromium(
        work / "profile-shot",
        "--window-size=1280,6000",
        "--virtual-time-budget=5000",
        f"--screenshot={screenshot}",
        report.resolve().as_uri(),
    )
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, s.stderr[-2000:]
    return record


def _assert_clean(record: dict, n_figures: int) -> None:
    assert record["images"] == n_figures
    assert record["loaded"] == n_figures, f"figures that did not load: {record['broken']}"
    assert record["errors"] == [], record["errors"]
    assert record["console"] == [], record["console"]
    assert record["sections"] >= 8 and record["tables"] >= 5


@pytest.mark.slow
def test_synthetic_report_renders_in_chromium(tmp_path):
    figures = synthetic_figures()
    report = tmp_path / "report.html"
    report.write_text(
        render_report(synthetic_summary(), synthetic_tables(), figures, run_date="test"), encoding="utf-8"
    )
    shot = tmp_path / "report_screenshot.png"
    record = check_in_browser(report, shot, tmp_path)
    _assert_clean(record, len(figures))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_broken_figure_is_detected(tmp_path):
    """The check can fail: a figure whose data does not decode is reported as not loaded."""
    figures = synthetic_figures()
    stem = next(iter(figures))
    figures[stem] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # PNG signature, no image
    report = tmp_path / "report.html"
    report.write_text(render_report(synthetic_summary(), synthetic_tables(), figures), encoding="utf-8")
    record = check_in_browser(report, tmp_path / "shot.png", tmp_path)
    assert record["loaded"] == len(figures) - 1
    assert record["broken"] == [stem]


@pytest.mark.slow
def test_console_error_is_detected(tmp_path):
    """The check can fail: a script error in the page shows up in the console record."""
    report = tmp_path / "report.html"
    html = render_report(synthetic_summary(), synthetic_tables(), synthetic_figures())
    report.write_text(html.replace("</body>", "<script>undefinedFunction();</script></body>"), encoding="utf-8")
    record = check_in_browser(report, tmp_path / "shot.png", tmp_path)
    assert any("undefinedFunction" in line for line in record["console"]), record["console"]


def _assert_chinese(record: dict) -> None:
    """Chinese headings in the DOM Chromium built: the contents and every numbered section heading."""
    assert record["lang"] == "zh-Hans"
    headings = record["headings"]
    assert "目录" in headings and "结果概览" in headings, headings
    numbered = [h for h in headings if re.match(r"\d+\. ", h)]
    # eight sections, and the revision section when the run has variants or suggestions (both reports tested do)
    assert len(numbered) == 9 and all(re.search(r"[\u4e00-\u9fff]", h) for h in numbered), numbered
    assert numbered[0] == "1. 样本与数据清理" and numbered[-2] == "8. 模型修订：变体与建议"
    assert numbered[-1] == "9. 附录：数据来源与运行信息"


@pytest.mark.slow
def test_chinese_report_renders_in_chromium(tmp_path):
    figures = synthetic_figures()
    report = tmp_path / "report.zh.html"
    with language("zh"):
        html = render_report(synthetic_summary(), synthetic_tables(), figures, run_date="test")
    report.write_text(html, encoding="utf-8")
    record = check_in_browser(report, tmp_path / "report_zh.png", tmp_path)
    _assert_clean(record, len(figures))
    _assert_chinese(record)


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["report.html", "report.zh.html"])
def test_pipeline_report_renders_in_chromium(e2e_project, tmp_path, name):
    """The pipeline's report and its Chinese copy, as the session's shared run built them (its config has the demo
    config's ``languages: [zh, en]``)."""
    report = e2e_project / "results" / name
    html = report.read_text(encoding="utf-8")
    n_figures = len(re.findall(r"<img ", html))
    assert n_figures >= 8
    record = check_in_browser(report, tmp_path / f"{name.removesuffix('.html')}_screenshot.png", tmp_path)
    _assert_clean(record, n_figures)
    if name == "report.zh.html":
        _assert_chinese(record)
