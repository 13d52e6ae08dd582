#!/usr/bin/env python3
"""Signs in to the console through an OpenID Connect provider (oidc-provider-mock) in headless
Chromium: the console's "Sign in with …" button, the provider's form, back to the console. Each
SUB:EXPECT signs in as SUB and expects the header to show that role, or `refused` to be sent back
to the sign-in page with an error.

    oidc_check.py BASE_URL SCREENSHOT_DIR SUB:EXPECT...
"""
import os, sys

import browser
from browser import go, run, shot, text, wait

try:
    browser.open_browser(sys.argv[1], sys.argv[2])
    wait(browser.server_up, "the Cutover server", seconds=60)
    # A link carrying a token this tab did not ask for (login CSRF) signs nobody in.
    go("/login")
    run("localStorage.clear(); sessionStorage.clear()")
    go("/health")  # from another document, so the link below loads the page as a fresh visit would
    go("/login#token=someone-elses-token")
    wait(lambda: "did not ask for" in text(), "the refusal of a token nobody asked for")
    if run("return localStorage.getItem('cutoverToken')"):
        raise SystemExit("a token from a link was stored")
    for step in sys.argv[3:]:
        sub, expect = step.split(":")
        go("/login")
        run("localStorage.clear()")
        go("/login")
        wait(lambda: run("return !!document.getElementById('sso')"), "the identity provider's button")
        if run("return !!document.getElementById('login')"):
            raise SystemExit("the password form is shown although local accounts are off")
        shot("sso-login")
        run("document.getElementById('sso').click()")
        wait(lambda: run("return !!document.querySelector('input[name=sub]')"), "the provider's authorization form")
        run("const input = document.querySelector('input[name=sub]'); input.value = arguments[0]; input.form.submit()", sub)
        if expect == "refused":
            wait(lambda: run("return location.pathname") == "/login" and run("return document.getElementById('notice').textContent"),
                 f"the refusal of {sub}")
            notice = run("return document.getElementById('notice').textContent")
            if "no role" not in notice:
                raise SystemExit(f"{sub} was refused for another reason: {notice}")
            if run("return localStorage.getItem('cutoverToken')"):
                raise SystemExit(f"{sub} was refused but holds a token")
            shot(f"sso-refused-{sub}")
        else:
            wait(lambda: run("return location.pathname") == "/" and sub in run("return document.getElementById('who').textContent"),
                 f"{sub} signed in")
            who = run("return document.getElementById('who').textContent")
            if expect not in who:
                raise SystemExit(f"{sub} signed in as {who!r}, expected the role {expect}")
            if "#" in run("return location.href"):
                raise SystemExit("the token stayed in the address bar")
            shot(f"sso-signed-in-{sub}")
            connection = os.environ.get("OIDC_CHECK_CONNECTION")
            if connection and expect != "viewer":
                status = run("return fetch('/api/v1/connections/test', {method: 'POST', headers: {'Content-Type': 'application/json',"
                             " Authorization: 'Bearer ' + localStorage.getItem('cutoverToken')}, body: JSON.stringify({connection: arguments[0]})})"
                             ".then(r => r.json()).then(j => j.status || j.error.message)", connection)
                print(f"connection {connection} as {sub}: {status}")
        print(f"{sub}: {expect}")
    print("oidc check passed")
finally:
    browser.close_browser()
