#!/usr/bin/env python3
"""Drives the web console in headless Chromium through chromedriver (see browser.py): creates the
admin on first visit, starts the demo migration, watches it finish, opens its validation results and
saves a screenshot of every main page.

    console_check.py BASE_URL SCREENSHOT_DIR
"""
import base64, os, sys, time

import browser
from browser import call, fill, go, run, shot, text, wait


OUT = sys.argv[2]
try:
    browser.open_browser(sys.argv[1], OUT)
    wait(browser.server_up, "the Cutover server", seconds=60)

    go("/")
    wait(lambda: "/login" in run("return location.pathname"), "the redirect to the sign-in page")
    shot("login")
    run("document.querySelector('details').open = true")
    fill("register", {"username": "admin", "password": "console-check-1"})
    wait(lambda: run("return location.pathname") == "/" and "Run the demo migration" in text(), "the overview after signing up")
    shot("overview-empty")
    # The store holds only an imported month of 2025 (half its checks passed): "this month" is empty, not that month.
    tiles = run("return Array.from(document.querySelectorAll('.kpi b')).map(b => b.textContent)")
    if tiles != ["0", "–", "0", "0"]:
        raise SystemExit(f"this month's tiles show another month: {tiles}")

    run("document.getElementById('demo').click()")
    wait(lambda: run("return location.pathname").startswith("/migrations/"), "the migration page")
    run_id = run("return location.pathname").split("/")[-1]
    wait(lambda: run("return !!document.querySelector('#progress .status.succeeded')"), "the demo migration to succeed")
    wait(lambda: "run.completed" in text(), "the live event run.completed")
    wait(lambda: "summary.md" in text(), "the artifact list")
    shot("migration")
    if "4/4 tables moved" not in text():
        raise SystemExit("the migration page does not say 4/4 tables moved: " + text()[:400])

    run("Array.from(document.querySelectorAll('a')).find(a => a.textContent.includes('Validation results')).click()")
    wait(lambda: run("return location.pathname") == "/validations/" + run_id, "the validation page")
    wait(lambda: run("return document.querySelectorAll('td .status.passed').length") == 4, "four passed checks")
    if "pdf" not in text():
        raise SystemExit("the validation page offers no PDF export")
    head = run("return fetch('/api/v1/validations/' + arguments[0] + '/export?format=pdf', {headers: {Authorization: 'Bearer ' + localStorage.getItem('cutoverToken')}})"
               ".then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 5)))", run_id)
    if head != "%PDF-":
        raise SystemExit(f"the PDF export is not a PDF: {head!r}")
    run("document.querySelector('[data-history]').click()")
    wait(lambda: "History of" in text(), "a table's history chart")
    shot("validation")

    if os.environ.get("CONSOLE_CHECK_PROJECT"):
        # A project from two named connections: auto-setup, a pipeline built from the catalogue
        # without typing YAML, run, and its steps passed.
        source, target = os.environ["CONSOLE_CHECK_PROJECT"].split(",")
        go("/projects")
        wait(lambda: run("return !!document.getElementById('create')"), "the new-project form")
        fill("create", {"name": "Chinook cutover", "source": source, "target": target})
        wait(lambda: run("return location.pathname").startswith("/projects/") and "Pipeline builder" in text(), "the project page")
        run("document.getElementById('setup').click()")
        wait(lambda: "mappings proposed" in text() and "Genre" in run("return document.getElementById('mappings').innerText"), "the proposed mappings")
        # Fix mappings by hand: a tolerance on one column, a table excluded; saved as version 1.
        run("""const rows = [...document.querySelectorAll('#mappings > table > tbody > tr')];
               const media = rows.find(r => r.cells[0].textContent === 'MediaType');
               media.querySelector('details').open = true;
               media.querySelector('input[data-f=tolerance]').value = 'case';
               rows.find(r => r.cells[0].textContent === 'Album').querySelector('select[data-f=decision]').value = 'excluded';
               document.getElementById('save-mappings').click();""")
        wait(lambda: "mappings saved as version 1" in text() and "History (1 version(s))" in text(), "the saved mapping decisions")
        if run("return document.querySelector('#mappings input[data-f=tolerance][value=case]') !== null") is not True:
            raise SystemExit("the saved tolerance is not shown after saving")
        shot("project-mappings")

        def add_step(category, check, values):
            run("const c = document.getElementById('category'); c.value = arguments[0]; c.dispatchEvent(new Event('change'));"
                "const k = document.getElementById('check'); k.value = arguments[1]; k.dispatchEvent(new Event('change'));", category, check)
            fill("step", values)
            wait(lambda: check in run("return document.getElementById('steps').innerText"), f"the {check} step in the list")

        add_step("comparative", "row_count", {"table": "Genre"})
        add_step("quality", "null_rate", {"table": "Genre", "p-column": "Name", "p-max": "0"})
        add_step("comparative", "row_count", {"table": "MediaType"})
        run("document.querySelector('[data-up=\"2\"]').click()")  # reorder: MediaType's count second
        shot("project-builder")
        # Suggested steps are added to the list; dropped again here so the saved pipeline is the built one.
        run("document.getElementById('suggest').click()")
        wait(lambda: "suggested for" in text(), "suggested steps")
        added = run("return document.querySelectorAll('#steps [data-drop]').length") - 3
        if added < 1:
            raise SystemExit("the suggestion added no step")
        for _ in range(added):
            run("const drops = document.querySelectorAll('#steps [data-drop]'); drops[drops.length - 1].click()")
        fill("save", {"name": "chinook-checks"})
        wait(lambda: "chinook-checks" in run("return document.getElementById('pipelines').innerText"), "the saved pipeline")
        saved = run("return document.querySelector('#pipelines pre').textContent")
        if "check: null_rate" not in saved or saved.index("MediaType") > saved.index("null_rate"):
            raise SystemExit("the saved pipeline is not the built one: " + saved)
        project_path = run("return location.pathname")
        run("document.querySelector('[data-run]').click()")
        wait(lambda: run("return location.pathname").startswith("/validations/"), "the pipeline's validation run")
        wait(lambda: run("return document.querySelectorAll('td .status.passed').length") == 3, "three passed steps")
        shot("project-run")
        # The steps went out live on the run's event stream (which the page follows while a run runs).
        stream = run("const id = location.pathname.split('/').pop();"
                     "return fetch('/api/v1/events?run=' + id + '&access_token=' + localStorage.getItem('cutoverToken')).then(r => r.text())")
        for event in ["event: pipeline.started", "event: step.started", "event: step.completed", "event: run.completed"]:
            if event not in stream:
                raise SystemExit(f"the run's event stream has no {event}: {stream[:500]}")
        # Back on the project: its run with the pipeline's version, and the sign-off says go; its PDF is a PDF.
        go(project_path)
        wait(lambda: "Runs and pass rate" in text() and "chinook-checks" in run("return document.getElementById('runs').innerText"), "the project's runs")
        wait(lambda: "GO" in run("return document.getElementById('signoff').innerText") and "NO-GO" not in text(), "the sign-off: go")
        shot("project-signoff")
        pdf = run("const link = location.pathname.replace('/projects/', '/api/v1/projects/') + '/signoff?format=pdf';"
                  "return fetch(link, {headers: {Authorization: 'Bearer ' + localStorage.getItem('cutoverToken')}})"
                  ".then(r => r.arrayBuffer()).then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })")
        data = base64.b64decode(pdf)
        if not data.startswith(b"%PDF-"):
            raise SystemExit(f"the sign-off PDF is not a PDF: {data[:40]!r}")
        with open(os.path.join(OUT, "signoff.pdf"), "wb") as f:
            f.write(data)

    for path in ["/", "/migrations", "/validations", "/rules", "/sql", "/copilot", "/connections", "/projects", "/workload", "/monitoring", "/alerts", "/audit", "/users", "/settings"]:
        go(path)
        wait(lambda: run("return document.readyState") == "complete" and "Loading…" not in text(), f"{path} to load")
        time.sleep(0.3)
        error = run("return document.getElementById('notice').textContent")
        if error:
            shot("failure")
            raise SystemExit(f"{path} shows an error: {error}")
        if path == "/monitoring" and os.environ.get("CONSOLE_CHECK_INGESTION"):
            wait(lambda: "Lag against the expected frequency" in text(), "the ingestion health on the Monitoring page")
            for word in os.environ["CONSOLE_CHECK_INGESTION"].split(","):
                if word not in text():
                    raise SystemExit(f"the Monitoring page does not show {word!r}: " + text()[:600])
        if path == "/rules":
            # A rule saved twice under one name is one rule with two versions, both in its history.
            for sql in ["SELECT 1 WHERE 1 = 0", "SELECT 1 WHERE 2 = 0"]:
                fill("add", {"name": "console_rule", "sql": sql})
                wait(lambda: sql in text(), "the saved rule")
            run("document.querySelector('[data-history]').click()")
            wait(lambda: "History of console_rule" in text(), "the rule's history")
            if run("return document.querySelectorAll('#history tbody tr').length") != 2:
                raise SystemExit("the rule's history does not list two versions: " + text()[-400:])
        if path == "/copilot":
            # An example question is answered: the chosen query, why, its SQL and the result table.
            run("document.querySelector('[data-example]').click()")
            wait(lambda: "confidence" in run("return document.getElementById('answer').innerText"), "the copilot's answer")
            answer = run("return document.getElementById('answer').innerText")
            for word in ["Failed checks", "matched", "SELECT", "row(s)"]:
                if word not in answer:
                    raise SystemExit(f"the copilot's answer lacks {word!r}: " + answer[:600])
        shot("page" + (path.replace("/", "-") if path != "/" else "-overview"))
    print(f"console check passed: run {run_id}, screenshots in {OUT}")
finally:
    browser.close_browser()
