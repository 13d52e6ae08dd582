"""A loopback TCP proxy for fault tests: kill it to make a database vanish mid-run, start it again
on the same port to bring the database back. Usage: tcp_proxy.py LISTEN_PORT TARGET_PORT [CUT_AFTER_BYTES]
With CUT_AFTER_BYTES, once that many bytes went from clients to the server, every open connection
is cut and new ones are refused for 0.7 s — once — so the outage lands in the middle of a load
however fast or slow the machine is."""
import socket
import sys
import threading
import time

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
cut_after = int(sys.argv[3]) if len(sys.argv) > 3 else None
lock = threading.Lock()
state = {"sent": 0, "cut": False, "refuse_until": 0.0}
open_sockets = set()

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(64)
print("ready", flush=True)


def cut_everything():
    for s in list(open_sockets):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pipe(source, sink, upward):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            if upward and cut_after is not None:
                with lock:
                    state["sent"] += len(data)
                    trigger = not state["cut"] and state["sent"] > cut_after
                    if trigger:
                        state["cut"] = True
                        state["refuse_until"] = time.time() + 0.7
                if trigger:
                    cut_everything()
                    break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            open_sockets.discard(s)


while True:
    client, _ = server.accept()
    if time.time() < state["refuse_until"]:
        client.close()
        continue
    upstream = socket.create_connection(("127.0.0.1", target_port))
    open_sockets.update((client, upstream))
    threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()
