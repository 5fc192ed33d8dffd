# Free loopback ports, shared by the test bed, the stand-ins and the sandbox. Sourced, not run.

# `count` free loopback ports, all bound at once so none is handed out twice.
free_ports() { # count
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
