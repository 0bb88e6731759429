"""TLS / mutual TLS between server.py and client.py (certificates made on the fly)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys

from .conftest import CLIENT, SERVER, free_port, make_slices


def _certs(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(path, data):
        with open(path, "wb") as f:
            f.write(data)
        return path

    def key_pem(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test-ca")).issuer_name(name("test-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))

    def leaf(cn, server):
        k = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject).public_key(k.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1)))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        c = b.sign(ca_key, hashes.SHA256())
        return (write(os.path.join(d, f"{cn}.pem"), c.public_bytes(serialization.Encoding.PEM)),
                write(os.path.join(d, f"{cn}.key"), key_pem(k)))

    ca_path = write(os.path.join(d, "ca.pem"), ca.public_bytes(serialization.Encoding.PEM))
    return ca_path, leaf("server", True), leaf("site0", False)


def _federate(d, port, server_tls, clients):
    """Run server.py (one round, one client, TLS flags server_tls) while clients(env)
    runs the clients; returns (clients' results, server rc, stdout, stderr)."""
    env = dict(os.environ, FLWR_TELEMETRY_ENABLED="0")
    srv = subprocess.Popen([sys.executable, SERVER, "--address", f"127.0.0.1:{port}", "--rounds", "1",
                            "--min-clients", "1", "--strategy", "fedavg", "--out-dir", os.path.join(d, "out"),
                            "--join-timeout", "60", *server_tls],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        res = clients(env)
        out, err = srv.communicate(timeout=60)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.communicate()
    return res, srv.returncode, out, err


def test_mutual_tls_accepts_client_cert_and_rejects_client_without_one(tmp_path):
    d = str(tmp_path)
    ca, (scert, skey), (ccert, ckey) = _certs(d)
    (data,) = make_slices(d, 1)
    port = free_port()
    base = [sys.executable, CLIENT, "--server", f"127.0.0.1:{port}", "--data", data, "--epochs", "1"]

    def clients(env):
        # TLS to the right CA but no client certificate: the handshake is refused
        bad = subprocess.run(base + ["--client-id", "nocert", "--tls-ca", ca, "--connect-timeout", "4"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert bad.returncode != 0, bad.stderr[-2000:]
        return subprocess.run(base + ["--client-id", "site0", "--tls-ca", ca, "--tls-cert", ccert,
                                      "--tls-key", ckey, "--connect-timeout", "20"],
                              capture_output=True, text=True, timeout=60, env=env)

    good, rc, out, err = _federate(d, port, ["--tls-ca", ca, "--tls-cert", scert, "--tls-key", skey], clients)
    assert good.returncode == 0, good.stderr[-2000:]
    assert rc == 0, err[-3000:]
    import json

    events = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    assert [e["client"] for e in events if e["event"] == "client.joined"] == ["site0"]
    assert events[-1]["event"] == "federation.completed"


def test_server_only_tls_accepts_client_with_ca(tmp_path):
    """Without --tls-ca the server does plain TLS (server authentication only)."""
    d = str(tmp_path)
    ca, (scert, skey), _ = _certs(d)
    (data,) = make_slices(d, 1)
    port = free_port()

    def clients(env):
        return subprocess.run([sys.executable, CLIENT, "--server", f"127.0.0.1:{port}", "--data", data,
                               "--client-id", "site0", "--tls-ca", ca, "--connect-timeout", "20"],
                              capture_output=True, text=True, timeout=60, env=env)

    c, rc, out, err = _federate(d, port, ["--tls-cert", scert, "--tls-key", skey], clients)
    assert c.returncode == 0, c.stderr[-2000:]
    assert rc == 0 and '"federation.completed"' in out, err[-3000:]
