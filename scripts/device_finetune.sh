#!/usr/bin/env bash
# Continue training the shipped EDSR-baseline x3 and x4 weights on a lent GPU, both runs at
# once, for a fixed time (the cosine spans the time: --time-budget), with KERAS_BACKEND=jax.
#
# Prepare here once (make devpack): .devpack/train (the training set as lossless WebP, < 64 MiB
# with the repository) and .whl (keras, namex, optree wheels for the device's Python 3.12).
# Then one device call, e.g. with the `device` tool:
#     run(command="bash scripts/device_finetune.sh", carry=[".devpack", ".whl"], timeout_s=570)
# It writes to $OUT (7 files): machine.txt, train_x{3,4}.log, x{3,4}_state.json (validation
# history) and x{3,4}_best.weights.h5. Back here: score the files on the same held-out images
# in float32 (benchmarks/README.md, "Continuing on a GPU") before shipping any of them.
#
# Settings (environment): BUDGET seconds of training per run (default 420), BATCH (32), LR
# (5e-5, cosine to 1e-6), SEED (40; x4 uses SEED+1), SCALES ("3 4"), PY (python3),
# SKIP_INSTALL=1 to use the Python environment as it is (a test here on the CPU).
set -uo pipefail
BUDGET=${BUDGET:-420}
BATCH=${BATCH:-32}
LR=${LR:-5e-5}
SEED=${SEED:-40}
SCALES=${SCALES:-"3 4"}
PY=${PY:-python3}
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
if [ ! -d .devpack/train ]; then
    echo "no .devpack/train: run 'make devpack' here and name .devpack in carry"; exit 2
fi
if [ "${SKIP_INSTALL:-0}" != 1 ] && ! ls .whl/*.whl > /dev/null 2>&1; then
    echo "no .whl/*.whl: run 'make devpack' here and name .whl in carry"; exit 2
fi

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1

{ date -u; nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; nproc; "$PY" --version
  "$PY" -c "import keras, jax; print('keras', keras.__version__, 'jax', jax.__version__,
jax.devices())"; } > "$OUT/machine.txt" 2>&1

pids=()
for s in $SCALES; do
    "$PY" -m zssr.baselines.train --hr-dir .devpack/train --scale "$s" \
        --time-budget "$BUDGET" --iters 10000000 --batch-size "$BATCH" --lr "$LR" \
        --min-lr 1e-6 --val-every 500 --val-count 10 --precision float32 \
        --seed $((SEED + s - 3)) --init-from "zssr/baselines/weights/edsr-baseline_x$s.weights.h5" \
        --init-scale "$s" --checkpoint-dir "/tmp/device_x$s" \
        --output "$OUT/x${s}_best.weights.h5" -q > "$OUT/train_x$s.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
for s in $SCALES; do
    cp "/tmp/device_x$s/state.json" "$OUT/x${s}_state.json" 2>/dev/null
    tail -n 3 "$OUT/train_x$s.log"
done
exit $status
