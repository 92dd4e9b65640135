#!/usr/bin/env python3
"""Reduced Bitcoin-mining Monte Carlo model -- implementation B: hand-written NumPy.

All paths advance together, one month per Python-level iteration; the
event-exact difficulty-retarget loop runs inside each month over the subset of
paths that still hit an epoch boundary in that month.

The model is described in docs/performance.md ("The NumPy anchor"); benches/reduced.toml is the same
reduced model as a hashcycle scenario, and benches/anchor.sh runs the two side by side.
Both implementations read the same counter-indexed random stream (common random
numbers): uniform number k (0..2) of path i in month m is draw number
(m * n_paths + i) * 3 + k of numpy's PCG64(seed) bit generator, so A and B can be
compared path by path.

Usage:  python benches/numpy_anchor.py --paths 20000 --repeats 3 [--out FILE.npz] [--json]
"""
import argparse
import calendar
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

# ----------------------------------------------------------------------------
# Model constants (keep identical to model_radcad.py)
# ----------------------------------------------------------------------------
T_MONTHS = 120
START_YEAR = 2025  # start month 2025-01
DAYS = np.array([calendar.monthrange(START_YEAR + m // 12, m % 12 + 1)[1]
                 for m in range(T_MONTHS)], dtype=float)

BULL, BEAR = 0, 1
P_BULL_TO_BEAR = 0.08
P_BEAR_TO_BULL = 0.12
MU = np.array([0.03, -0.03])          # monthly log-return mean, [bull, bear]
SIGMA = np.array([0.15, 0.20])        # monthly log-return sd,   [bull, bear]
FEE_BTC = np.array([0.1, 0.05])       # fees per block,          [bull, bear]
PRICE0 = 93429.0

HEIGHT0 = 877259.0
DIFF0 = 109.78e12
EPOCH_LEN = 2016.0
TARGET_EPOCH_S = 600.0 * 2016.0
HALVING = 210000.0
TWO32 = 4294967296.0
EPOCH_BLOCKS0 = HEIGHT0 % EPOCH_LEN          # 299 blocks into the current epoch
EPOCH_SECONDS0 = EPOCH_BLOCKS0 * 600.0       # assume they came at target pace

N_SEG, N_REG, N_GEN = 2, 6, 10               # segments: 0 key, 1 retail
GEN = np.arange(N_GEN)
EFF_JTH = 38.0 * 0.85 ** GEN                 # J/TH
THS = 100.0 + 15.0 * GEN                     # TH/s per machine
RELEASE_M = -60 + 12 * GEN                   # release month (0 = 2025-01)
POWER = np.array([0.03, 0.04, 0.05, 0.06, 0.07, 0.08])   # USD/kWh per region
COST_TH_DAY = POWER[:, None] * (EFF_JTH * 24.0 / 1000.0)[None, :]  # USD per TH/s per day (6,10)
RUN_THRESHOLD = COST_TH_DAY * 1.1            # hashprice needed to run (6,10)
RETIRE_AFTER = 6                             # consecutive months off -> retire

PAYBACK_MAX = np.array([18.0, 12.0])         # months, [key, retail]
CASH0 = np.array([500e6, 100e6])
CAPEX_USD_PER_TH = 20.0
HP_REF = 0.05
HP_ELASTICITY = 0.8
BUY_CAP = 0.02                               # of segment running hashrate per month
LEAD = 2                                     # months from purchase to arrival

START_EHS = 778.0
SEG_SHARE = np.array([0.6, 0.4])
REG_SHARE = np.full(N_REG, 1.0 / N_REG)
GEN_SHARE = np.array([0.02, 0.05, 0.10, 0.18, 0.30, 0.35, 0.0, 0.0, 0.0, 0.0])
COUNTS0 = (START_EHS * 1e6 * SEG_SHARE[:, None, None] * REG_SHARE[None, :, None]
           * GEN_SHARE[None, None, :] / THS[None, None, :])        # machines (2,6,10)

FIELDS = ("price", "hashrate_ehs", "difficulty", "blocks", "subsidy", "hashprice", "revenue")


def newest_gen(month):
    return int(np.nonzero(RELEASE_M <= month)[0].max())


def issued(height):
    """Cumulative subsidy (BTC) minted up to `height` (piecewise linear)."""
    k = np.floor_divide(height, HALVING)
    return HALVING * 50.0 * (2.0 - np.power(2.0, 1.0 - k)) + (height - k * HALVING) * (50.0 / np.power(2.0, k))


def produce_blocks(hashrate_hs, difficulty, height, epoch_blocks, epoch_seconds, seconds):
    """Event-exact block production over `seconds` for all paths.

    Blocks arrive at rate hashrate/(difficulty*2^32) per second (fluid, i.e.
    expected blocks); every 2016 blocks difficulty retargets by
    clip(600*2016/epoch_seconds, 1/4, 4).  Returns new arrays.
    """
    n = hashrate_hs.shape[0]
    d = difficulty.copy()
    h = height.copy()
    eb = epoch_blocks.copy()
    es = epoch_seconds.copy()
    blocks = np.zeros(n)
    s_rem = np.full(n, seconds)
    idx = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        while idx.size:
            rate = hashrate_hs[idx] / (d[idx] * TWO32)
            need = EPOCH_LEN - eb[idx]
            ttf = need / rate
            sr = s_rem[idx]
            hit = ttf <= sr
            # paths that finish the month inside the current epoch
            miss = ~hit
            f = idx[miss]
            nb = rate[miss] * sr[miss]
            blocks[f] = blocks[f] + nb
            eb[f] = eb[f] + nb
            es[f] = es[f] + sr[miss]
            h[f] = h[f] + nb
            # paths that complete the epoch: retarget, then loop again
            r = idx[hit]
            dt = ttf[hit]
            nd = need[hit]
            es_r = es[r] + dt
            s_rem[r] = sr[hit] - dt
            blocks[r] = blocks[r] + nd
            h[r] = h[r] + nd
            d[r] = d[r] * np.clip(TARGET_EPOCH_S / es_r, 0.25, 4.0)
            eb[r] = 0.0
            es[r] = 0.0
            idx = r
    return blocks, d, h, eb, es


def simulate(n_paths, seed=1):
    n = n_paths
    rng = np.random.Generator(np.random.PCG64(seed))
    regime = np.zeros(n, dtype=np.int64)
    price = np.full(n, PRICE0)
    difficulty = np.full(n, DIFF0)
    height = np.full(n, HEIGHT0)
    epoch_blocks = np.full(n, EPOCH_BLOCKS0)
    epoch_seconds = np.full(n, EPOCH_SECONDS0)
    counts = np.broadcast_to(COUNTS0, (n, N_SEG, N_REG, N_GEN)).copy()
    off_months = np.zeros((n, N_SEG, N_REG, N_GEN), dtype=np.int64)
    pending = np.zeros((n, LEAD, N_SEG, N_GEN))
    cash = np.broadcast_to(CASH0, (n, N_SEG)).copy()
    out = {k: np.empty((n, T_MONTHS)) for k in FIELDS}

    for m in range(T_MONTHS):
        # ---- market: regime switch, price, fees --------------------------
        u = rng.random((n, 3))
        u0 = np.ascontiguousarray(u[:, 0])
        u1 = np.ascontiguousarray(u[:, 1])
        u2 = np.ascontiguousarray(u[:, 2])
        p_switch = np.where(regime == BULL, P_BULL_TO_BEAR, P_BEAR_TO_BULL)
        regime = np.where(u0 < p_switch, 1 - regime, regime)
        z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
        r = MU[regime] + SIGMA[regime] * z
        price = price * np.exp(r)
        fee = FEE_BTC[regime]

        # ---- fleet operations: arrivals, on/off, retirement ---------------
        counts[:, :, 0, :] += pending[:, 0]
        pending[:, :-1] = pending[:, 1:]
        pending[:, -1] = 0.0
        sub_now = 50.0 / np.power(2.0, np.floor_divide(height, HALVING))
        hp = price * (sub_now + fee) * 86400.0 * 1e12 / (difficulty * TWO32)
        running = np.broadcast_to((hp[:, None, None] >= RUN_THRESHOLD[None])[:, None],
                                  counts.shape)
        off_months = np.where(running, 0, off_months + 1)
        retire = off_months >= RETIRE_AFTER
        counts = np.where(retire, 0.0, counts)
        off_months = np.where(counts > 0.0, off_months, 0)
        run_th = np.where(running, counts * THS, 0.0)
        seg_th = run_th.reshape(n, N_SEG, N_REG * N_GEN).sum(axis=2)
        seg_cost_day = (run_th * COST_TH_DAY).reshape(n, N_SEG, N_REG * N_GEN).sum(axis=2)
        total_th = seg_th[:, 0] + seg_th[:, 1]
        hashrate_hs = total_th * 1e12

        # ---- network: event-exact blocks and retargets --------------------
        h_old = height
        blocks, difficulty, height, epoch_blocks, epoch_seconds = produce_blocks(
            hashrate_hs, difficulty, height, epoch_blocks, epoch_seconds, DAYS[m] * 86400.0)
        minted = issued(height) - issued(h_old)
        with np.errstate(divide="ignore", invalid="ignore"):
            subsidy = np.where(blocks > 0.0, minted / blocks, sub_now)
            share = np.where(total_th[:, None] > 0.0, seg_th / total_th[:, None], 0.0)
        revenue = price * (minted + fee * blocks)

        # ---- economics: cash, purchases -----------------------------------
        cash = cash + (revenue[:, None] * share - seg_cost_day * DAYS[m])
        g = newest_gen(m)
        ths = THS[g]
        unit_price = CAPEX_USD_PER_TH * ths * np.power(hp / HP_REF, HP_ELASTICITY)
        margin_day = hp * ths - COST_TH_DAY[0, g] * ths
        with np.errstate(divide="ignore", invalid="ignore"):
            payback = unit_price / (30.0 * margin_day)
        ok = (margin_day > 0.0)[:, None] & (payback[:, None] > 0.0) & (payback[:, None] < PAYBACK_MAX)
        units = np.minimum(cash / unit_price[:, None], BUY_CAP * seg_th / ths)
        units = np.where(ok & (units > 0.0), units, 0.0)
        cash = cash - units * unit_price[:, None]
        pending[:, -1, :, g] += units

        # ---- record --------------------------------------------------------
        out["price"][:, m] = price
        out["hashrate_ehs"][:, m] = total_th / 1e6
        out["difficulty"][:, m] = difficulty
        out["blocks"][:, m] = blocks
        out["subsidy"][:, m] = subsidy
        out["hashprice"][:, m] = hp
        out["revenue"][:, m] = revenue
    return out


def peak_rss_mib():
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kib / 1024.0, child_kib / 1024.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--paths", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="write recorded (paths x months) arrays to this .npz")
    ap.add_argument("--json", action="store_true", help="print one JSON result line")
    args = ap.parse_args(argv)

    times = []
    res = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = simulate(args.paths, args.seed)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rss_self, rss_child = peak_rss_mib()
    summary = {
        "impl": "numpy", "backend": "vectorised", "processes": 1,
        "paths": args.paths, "months": T_MONTHS, "repeats": args.repeats,
        "times_s": [round(t, 3) for t in times], "median_s": round(med, 3),
        "path_months_per_s": args.paths * T_MONTHS / med,
        "peak_rss_mib": round(rss_self, 1), "peak_rss_children_mib": round(rss_child, 1),
        "median_price_m60": float(np.median(res["price"][:, 59])),
        "median_price_m120": float(np.median(res["price"][:, 119])),
        "median_hashrate_ehs_m60": float(np.median(res["hashrate_ehs"][:, 59])),
        "median_hashrate_ehs_m120": float(np.median(res["hashrate_ehs"][:, 119])),
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        np.savez_compressed(args.out, **res)
    if args.json:
        print(json.dumps(summary))
    else:
        for k, v in summary.items():
            print(f"{k:28s} {v}")
    return summary


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
