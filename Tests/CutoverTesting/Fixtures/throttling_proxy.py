"""A loopback HTTP proxy in front of the Snowflake emulator that answers every Nth query request
with a throttling or gateway error instead of forwarding it, so retries can be tested (EVERY 0:
never), and remembers how each login authenticated.
Usage: throttling_proxy.py LISTEN_PORT TARGET_PORT EVERY STATUS   (prints "ready" when listening;
GET /__throttled returns how many requests it refused; GET /__logins the AUTHENTICATOR and TOKEN
of every login request, as JSON)."""
import http.client
import http.server
import json
import sys
import threading

listen_port, target_port, every, status = (int(a) for a in sys.argv[1:5])
lock = threading.Lock()
seen = 0
refused = 0
logins = []


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self):
        global seen, refused
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.path == "/__throttled":
            return self.reply(200, str(refused).encode(), "text/plain")
        if self.path == "/__logins":
            return self.reply(200, json.dumps(logins).encode())
        if self.path.startswith("/session/v1/login-request") and body:
            data = json.loads(body).get("data", {})
            with lock:
                logins.append({"authenticator": data.get("AUTHENTICATOR"), "token": data.get("TOKEN")})
        if every and self.path.startswith("/queries/v1/query-request"):
            with lock:
                seen += 1
                throttle = seen % every == 0
                if throttle:
                    refused += 1
            if throttle:
                return self.reply(status, b"<html>slow down</html>", "text/html")
        upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.reply(answer.status, data, answer.getheader("Content-Type") or "application/json")
        upstream.close()

    do_GET = do_POST = do_PUT = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), Proxy)
print("ready", flush=True)
server.serve_forever()
