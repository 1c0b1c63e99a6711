"""Command line: python -m explorer train | eval | encode."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, without the usage block."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 512,256, not {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description="Train, evaluate and encode VAEs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a VAE and save it as a .safetensors checkpoint")
    train.add_argument("--data", default="mnist5k", help="built-in name (mnist5k, digits, mnist, fashion-mnist) or a .npz/.zip path")
    train.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    train.add_argument("--latent-dim", type=int, default=2)
    train.add_argument("--hidden", type=_widths, default=(512, 256), help="dense layer widths, e.g. 512,256")
    train.add_argument("--conv-channels", type=_widths, default=(32, 64), help="conv channels, e.g. 32,64")
    train.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    train.add_argument("--gaussian-std", type=float, default=0.1)
    train.add_argument("--learn-std", action="store_true", help="gaussian: learn the decoder's std")
    train.add_argument("--conditional", action="store_true", help="condition on the labels (CVAE)")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--beta", type=float, default=1.0)
    train.add_argument("--warmup-steps", type=int, default=0, help="KL warm-up: steps over which beta ramps from 0")
    train.add_argument("--free-bits", type=float, default=0.0, help="nats per latent dimension not penalised")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    train.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                       help="forward pass in bf16 autocast where the CPU supports it (auto), or always fp32 / bf16")
    train.add_argument("--out", required=True, help="where to write the checkpoint (.safetensors)")

    evaluate = commands.add_parser("eval", help="score a checkpoint on its test split")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--data", help="data set to score on (default: the one it was trained on)")
    evaluate.add_argument("--split", choices=("train", "test", "all"), default="test")
    evaluate.add_argument("--k", type=int, default=100, help="importance samples for the IWAE bound")
    evaluate.add_argument("--seed", type=int, default=0)

    embed = commands.add_parser("embed", help="project a checkpoint's latent means to 2-D and store the map beside it")
    embed.add_argument("checkpoint")
    embed.add_argument("--method", choices=("pca", "umap", "tsne"), default="umap")
    embed.add_argument("--split", choices=("train", "test", "all"), default="test")
    embed.add_argument("--data", help="data set to encode (default: the one it was trained on)")
    embed.add_argument("--n-neighbors", type=int, default=15, help="UMAP: neighbours")
    embed.add_argument("--min-dist", type=float, default=0.1, help="UMAP: minimum distance")
    embed.add_argument("--perplexity", type=float, default=30.0, help="t-SNE: perplexity")
    embed.add_argument("--seed", type=int, default=0)
    embed.add_argument("--out", help="where to write the .npz (default: beside the checkpoint, as the app looks for it)")

    encode = commands.add_parser("encode", help="write the latent means and log-variances of a data split")
    encode.add_argument("checkpoint")
    encode.add_argument("--out", required=True, help="latents.npz or latents.csv")
    encode.add_argument("--data", help="data set to encode (default: the one it was trained on)")
    encode.add_argument("--split", choices=("train", "test", "all"), default="test")
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _train(args) -> int:
    from tqdm import tqdm

    from explorer.checkpoint import save_checkpoint
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import BUILTIN_DATASETS, load_dataset
    from explorer.model import create_model
    from explorer.train import train_steps

    out = Path(args.out)
    if out.suffix != ".safetensors":
        return _fail(f"--out must end in .safetensors, e.g. {out.with_suffix('.safetensors')}")
    model_config = ModelConfig(
        arch=args.arch,
        latent_dim=args.latent_dim,
        hidden_dims=args.hidden,
        conv_channels=args.conv_channels,
        likelihood=args.likelihood,
        gaussian_std=args.gaussian_std,
        learn_std=args.learn_std,
        conditional=args.conditional,
    )
    train_config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        beta=args.beta,
        warmup_steps=args.warmup_steps,
        free_bits=args.free_bits,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
    )
    dataset = load_dataset(args.data)
    model = create_model(model_config, dataset.image_shape, dataset.num_classes, seed=train_config.seed)
    history, last = [], None
    with tqdm(desc=f"training on {dataset.name}", unit="step", file=sys.stderr, dynamic_ncols=True) as bar:
        for metrics in train_steps(model, dataset, train_config):
            if bar.total is None:
                bar.reset(total=metrics.total_steps)
            history.append(metrics.to_dict())
            last = metrics if metrics.epoch_end else last
            bar.set_postfix(
                epoch=metrics.epoch,
                recon=f"{metrics.recon:.1f}",
                kl=f"{metrics.kl:.2f}",
                beta=f"{metrics.beta:.2f}",
                test_elbo=f"{last.test_elbo:.2f}" if last else "-",
                refresh=False,
            )
            bar.update(1)
    save_checkpoint(
        out,
        model,
        dataset=args.data if args.data in BUILTIN_DATASETS else str(Path(args.data)),
        label_names=dataset.label_names,
        train_config=train_config,
        step_history=history,
    )
    print(
        f"test ELBO {last.test_elbo:.2f} nats/image (recon {last.test_recon:.2f}, KL {last.test_kl:.2f}) | "
        f"{metrics.samples_per_s:,.0f} samples/s | saved {out}"
    )
    return 0


def _load_for_scoring(args):
    from explorer.checkpoint import load_checkpoint
    from explorer.data import load_dataset

    checkpoint = load_checkpoint(args.checkpoint)
    source = args.data or checkpoint.dataset
    try:
        dataset = load_dataset(source)
    except ValueError as error:
        if args.data:
            raise
        raise ValueError(f"{error} (this checkpoint was trained on {source!r}; pass --data to choose the data)") from None
    if dataset.image_shape != checkpoint.image_shape:
        raise ValueError(
            f"the checkpoint expects {checkpoint.image_shape} images but {dataset.name} has {dataset.image_shape}"
        )
    if checkpoint.model_config.conditional and dataset.num_classes != checkpoint.model.num_classes:
        raise ValueError(f"the checkpoint is conditioned on {checkpoint.model.num_classes} classes, {dataset.name} has {dataset.num_classes}")
    return checkpoint, dataset


def _eval(args) -> int:
    from explorer.evaluation import evaluate

    if args.k < 0:
        return _fail("--k must be 0 (no IWAE) or more")
    checkpoint, dataset = _load_for_scoring(args)
    scores = evaluate(checkpoint.model, dataset, args.split, k=args.k, seed=args.seed)
    config = checkpoint.model_config
    rows = [
        ("checkpoint", f"{args.checkpoint} ({config.arch}, z={config.latent_dim}, {config.likelihood}"
                       f"{', conditional' if config.conditional else ''}, trained on {checkpoint.dataset})"),
        ("data", f"{dataset.name}, {args.split} split, {scores.n_images:,} images"),
        (f"{args.split} ELBO", f"{scores.elbo:.2f} nats/image"),
        ("reconstruction", f"{scores.recon:.2f} nats/image"),
        ("KL", f"{scores.kl:.2f} nats/image"),
    ]
    if scores.iwae is not None:
        rows.append((f"IWAE log p(x), k={scores.k}", f"{scores.iwae:.2f} nats/image"))
    rows.append(("active units", f"{scores.active_units} of {config.latent_dim}"))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _encode(args) -> int:
    from explorer.export import latents_csv
    from explorer.latent import encode_dataset

    out = Path(args.out)
    if out.suffix not in (".npz", ".csv"):
        return _fail(f"--out must end in .npz or .csv, not {out.name!r}")
    checkpoint, dataset = _load_for_scoring(args)
    latents = encode_dataset(checkpoint.model, dataset, args.split)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        extra = {"labels": latents.labels} if latents.labels is not None else {}
        np.savez(out, mu=latents.mu, logvar=latents.logvar, index=latents.index,
                 label_names=np.asarray(dataset.label_names, dtype=str), **extra)
    else:
        out.write_text(latents_csv(latents, dataset.label_names))
    print(f"wrote {len(latents.index):,} latent vectors ({latents.mu.shape[1]}-D, {args.split} split) to {out}")
    return 0


def _embed(args) -> int:
    import time

    from explorer.embedfile import embedding_path, save_embedding
    from explorer.latent import encode_dataset
    from explorer.projection import project

    checkpoint, dataset = _load_for_scoring(args)
    params = {"umap": {"n_neighbors": args.n_neighbors, "min_dist": args.min_dist},
              "tsne": {"perplexity": args.perplexity}, "pca": {}}[args.method]
    latents = encode_dataset(checkpoint.model, dataset, args.split)
    started = time.perf_counter()
    projection = project(latents.mu, args.method, params, args.seed)
    seed = args.seed if args.method != "pca" else 0
    out = Path(args.out) if args.out else embedding_path(Path(args.checkpoint), args.split, args.method)
    save_embedding(out, projection, latents.index, fingerprint=checkpoint.fingerprint, split=args.split,
                   params=params, seed=seed)
    print(f"wrote the {args.method} map of {len(latents.index):,} {args.split} images to {out} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from explorer.train import TrainingDiverged

    try:
        return {"train": _train, "eval": _eval, "encode": _encode, "embed": _embed}[args.command](args)
    except TrainingDiverged as error:
        return _fail(f"{error} Nothing was written.")
    except (ValueError, OSError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was written.", 130)


if __name__ == "__main__":
    sys.exit(main())
