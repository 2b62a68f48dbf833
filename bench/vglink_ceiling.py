#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How many packets/s vglink forwards with no impairment on this machine:
the `wide` lab (clean relay), masscan sending SYNs to 8 ports of each of
the 65,536 addresses of 198.19.0.0/16 at each --rate given, and the relay's
counters sampled every 0.25 s (SIGUSR1). Prints, per rate, the peak and
mean scanner->target forwarding rate, the relay's drops and the frames the
scanner's tap dropped before the relay could read them (tap queue full).
Everything runs in the lab's namespaces (no route out). Needs root."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import wanlab  # noqa: E402

RATES = [int(x) for x in (sys.argv[1:] or ["150000", "250000", "400000", "1000000"])]


def tap_tx_dropped(lab):
    out = lab.run(lab.scanner, ["ip", "-s", "-j", "link", "show", lab.dev_s]).stdout
    import json
    return json.loads(out)[0]["stats64"]["tx"]["dropped"]


def main():
    if os.geteuid() != 0:
        sys.exit("vglink_ceiling.py: needs root")
    with wanlab.WanLab("wide", ports="1-100", n_open=10, n_filtered=10,
                       wide_open=10, wide_rst=10) as lab:
        print("| masscan --rate | peak fwd pps (0.25 s) | mean fwd pps while sending | "
              "relay drops | tap queue drops |")
        print("|---|---|---|---|---|")
        for rate in RATES:
            samples, stop = [], threading.Event()

            def sample():
                while not stop.is_set():
                    s = lab.relay_stats()
                    samples.append((s["seconds"], s["a2b"]["forwarded"],
                                    s["a2b"]["dropped_ring"] + s["a2b"]["tx_errors"]))
                    time.sleep(0.25)
            d0 = tap_tx_dropped(lab)
            th = threading.Thread(target=sample)
            th.start()
            lab.run(lab.scanner, ["timeout", "120", "masscan", "-p1-8", wanlab.WIDE_NET,
                                  "--rate", str(rate), "--router-mac", lab.target_mac,
                                  "-e", lab.dev_s, "--wait", "0", "-oL", "/dev/null"],
                    timeout=130)
            time.sleep(0.5)
            stop.set()
            th.join()
            rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(samples, samples[1:])]
            busy = [r for r in rates if r > 1000]
            print(f"| {rate} | {max(rates):.0f} | {sum(busy) / max(1, len(busy)):.0f} | "
                  f"{samples[-1][2] - samples[0][2]} | {tap_tx_dropped(lab) - d0} |")


if __name__ == "__main__":
    main()
