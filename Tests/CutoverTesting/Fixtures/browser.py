"""Headless Chromium through chromedriver (plain WebDriver over HTTP, standard library only), for
the console scripts: `from browser import *`, then `open_browser(BASE, OUT)` and the helpers below.
"""
import base64, json, os, socket, subprocess, time, urllib.request

BASE, OUT, WD, session, driver = "", "", "", None, None


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def call(method, path, body=None):
    request = urllib.request.Request(WD + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}").get("value")


def wait(predicate, what, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.3)
    shot("failure")
    raise SystemExit(f"timed out waiting for {what}; page text: {text()[:600]!r}")


def run(script, *args):
    return call("POST", f"/session/{session}/execute/sync", {"script": script, "args": list(args)})


def text():
    return run("return document.body ? document.body.innerText : ''") or ""


def go(path):
    call("POST", f"/session/{session}/url", {"url": BASE + path})


def shot(name):
    data = call("GET", f"/session/{session}/screenshot")
    with open(os.path.join(OUT, name + ".png"), "wb") as f:
        f.write(base64.b64decode(data))


def fill(form, values):
    run("""const form = document.getElementById(arguments[0]);
           for (const [k, v] of Object.entries(arguments[1])) form.elements[k].value = v;
           form.requestSubmit();""", form, values)


def open_browser(base, out):
    """Starts chromedriver and a headless Chromium session; `close_browser()` ends both."""
    global BASE, OUT, WD, session, driver
    BASE, OUT = base.rstrip("/"), out
    os.makedirs(OUT, exist_ok=True)
    port = free_port()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    WD = f"http://127.0.0.1:{port}"
    wait(lambda: call("GET", "/status")["ready"], "chromedriver")
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,900"]}}}})["sessionId"]


def close_browser():
    if session:
        try:
            call("DELETE", f"/session/{session}")
        except Exception:
            pass
    if driver:
        driver.kill()


def server_up():
    with urllib.request.urlopen(BASE + "/health", timeout=5) as response:
        return response.status == 200
