"""A webhook receiver on loopback for alert tests: every POST is saved as OUTDIR/NNNN.json with its
path, headers, JSON body and whether its X-Cutover-Signature is the HMAC-SHA256 of
"TIMESTAMP.BODY" with SECRET. /flaky answers 500 to its first request, then 200."""
import hashlib, hmac, http.server, json, os, sys, threading

port, outdir, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
lock = threading.Lock()
seen = {"flaky": 0}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("X-Cutover-Timestamp", "")
        expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        with lock:
            if self.path == "/flaky":
                seen["flaky"] += 1
                if seen["flaky"] == 1:
                    self.send_response(500); self.end_headers(); return
            n = len(os.listdir(outdir))
            with open(os.path.join(outdir, "%04d.json" % n), "w") as f:
                json.dump({"path": self.path, "event": self.headers.get("X-Cutover-Event"),
                           "valid": hmac.compare_digest(expected, self.headers.get("X-Cutover-Signature", "")),
                           "body": json.loads(body)}, f)
        self.send_response(200); self.end_headers()

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
