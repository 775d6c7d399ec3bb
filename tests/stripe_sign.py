#!/usr/bin/env python3
"""Print Stripe-Signature header values made by Stripe's official Python package (PyPI `stripe`).

Used by crates/connectors/tests/stripe_python.rs to check Seam's verifier against the vendor's own signer.

    python3 tests/stripe_sign.py PAYLOAD SECRET TIMESTAMP     one header for one payload
    python3 tests/stripe_sign.py < requests.jsonl             one header per line, in order, for lines like
                                                              {"payload": "...", "secret": "whsec_...", "timestamp": 1700000000}

The signer is `stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=None)`, which takes the
payload as text (str) and signs its UTF-8 bytes: `t={timestamp},v1={hex HMAC-SHA256("{timestamp}.{payload}")}`.

Exit status: 0 on success, 3 if the `stripe` module is not installed (install: python3 -m pip install stripe),
2 for bad input.
"""

import json
import sys


def main(argv):
    try:
        import stripe
    except ImportError:
        print("stripe_sign.py: the Python package `stripe` is not installed; "
              "install it with: python3 -m pip install stripe", file=sys.stderr)
        return 3

    sign = stripe.WebhookSignature.generate_signature_header

    if argv[1:2] == ["--version"]:
        print(getattr(stripe, "VERSION", "unknown"))
        return 0

    if len(argv) == 4:
        payload, secret, timestamp = argv[1], argv[2], argv[3]
        try:
            timestamp = int(timestamp)
        except ValueError:
            print("stripe_sign.py: TIMESTAMP must be whole Unix seconds", file=sys.stderr)
            return 2
        print(sign(payload, secret, timestamp=timestamp))
        return 0

    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2

    # Read bytes and decode explicitly, so a C/POSIX locale cannot change how non-ASCII payloads are read.
    text = sys.stdin.buffer.read().decode("utf-8")
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            payload, secret, timestamp = request["payload"], request["secret"], request["timestamp"]
            if not (isinstance(payload, str) and isinstance(secret, str) and type(timestamp) is int):
                raise TypeError("payload and secret must be strings, timestamp an integer")
        except KeyError as error:
            print(f"stripe_sign.py: line {number}: missing key {error}", file=sys.stderr)
            return 2
        except (ValueError, TypeError) as error:
            print(f"stripe_sign.py: line {number}: {error}", file=sys.stderr)
            return 2
        out.append(sign(payload, secret, timestamp=timestamp))
    sys.stdout.write("".join(header + "\n" for header in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
