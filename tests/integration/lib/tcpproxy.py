#!/usr/bin/env python3
"""A loopback TCP relay between idwatch and idwatch-sim, so a test can make the cluster stop
answering and come back without restarting the simulator (whose CA and tokens are new on every
start). TLS passes through untouched.

    tcpproxy.py TARGET_PORT MODE_FILE     prints "READY <port>" once listening on 127.0.0.1

MODE_FILE holds one word, read ten times a second:
    up    relay (the default, also when the file is missing)
    down  drop every open connection and close new ones at once: the API server is gone
    hang  keep connections open but relay nothing: the API server stopped answering
"""
import os
import socket
import sys
import threading
import time

target_port = int(sys.argv[1])
mode_file = sys.argv[2]
mode = "up"
lock = threading.Lock()
conns = set()  # (client socket, upstream socket)


def read_mode():
    try:
        with open(mode_file) as f:
            return f.read().strip() or "up"
    except OSError:
        return "up"


def close_pair(pair):
    with lock:
        conns.discard(pair)
    for s in pair:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def pump(src, dst, pair):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            while mode == "hang":
                time.sleep(0.05)
            if mode == "down":
                break
            dst.sendall(data)
    except OSError:
        pass
    close_pair(pair)


def watch_mode():
    global mode
    while True:
        m = read_mode()
        if m != mode:
            mode = m
            if mode == "down":
                with lock:
                    pairs = list(conns)
                for p in pairs:
                    close_pair(p)
        time.sleep(0.1)


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    threading.Thread(target=watch_mode, daemon=True).start()
    print("READY %d" % srv.getsockname()[1], flush=True)
    while True:
        client, _ = srv.accept()
        if mode == "down":
            client.close()
            continue
        try:
            up = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            client.close()
            continue
        pair = (client, up)
        with lock:
            conns.add(pair)
        threading.Thread(target=pump, args=(client, up, pair), daemon=True).start()
        threading.Thread(target=pump, args=(up, client, pair), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        os._exit(0)
