"""Command line: python -m explorer (installed: vae-explorer) train | eval | score | vector | encode | embed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


COMMAND = "vae-explorer"  # the console command pyproject.toml installs


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line, without the usage block."""

    def error(self, message: str):
        # Under torchrun every process parses the same flags: rank 0 alone says what is wrong. (The variable is
        # read here, not through explorer.distributed, so a mistyped flag costs no torch import.)
        leader = os.environ.get("RANK", "0") == "0"
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n" if leader else None)


def _flag_type(field, spec):
    """argparse's type for a declared field: its own parser, with the declaration's words on a bad value."""
    from explorer.settings import describe, parse

    def convert(text: str):
        try:
            return parse(field, text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {describe(field, spec)}, not {text!r}") from None

    return convert


def add_settings(parser: argparse.ArgumentParser, config_type, skip: tuple[str, ...] = (),
                 only: tuple[str, ...] = ()) -> None:
    """One flag per declared setting of a config (or of those named in `only`), with its default, choices and help
    (explorer.settings)."""
    from explorer.settings import kind, specs

    for name, (field, spec) in specs(config_type).items():
        if name in skip or (only and name not in only):
            continue
        flags = [f"--{name.replace('_', '-')}"] + ([spec.flag] if spec.flag else [])
        if kind(field) is bool:
            parser.add_argument(*flags, dest=name, action="store_true", help=spec.help)
            continue
        default = ",".join(map(str, field.default)) if kind(field) is tuple else field.default
        parser.add_argument(*flags, dest=name, type=_flag_type(field, spec), default=field.default,
                            choices=spec.choices, help=f"{spec.help} (default {default})")


def config_from(config_type, args: argparse.Namespace):
    """The config the flags describe (validated by the config itself)."""
    from explorer.settings import specs

    return config_type(**{name: getattr(args, name) for name in specs(config_type) if hasattr(args, name)})


def _add_split(parser: argparse.ArgumentParser) -> None:
    from explorer.data import SPLITS

    parser.add_argument("--split", choices=SPLITS, default=SPLITS[0])


def _add_scoring(parser: argparse.ArgumentParser) -> None:
    """What eval and score share: the checkpoint, the data and split to score, the IWAE samples and their seed."""
    parser.add_argument("checkpoint")
    parser.add_argument("--data", help="built-in name or .npz/.zip path (default: the data it was trained on)")
    _add_split(parser)
    from explorer.config import ScoreConfig

    add_settings(parser, ScoreConfig)  # --k and --seed, as the app's Likelihood page declares them (eval: k 0 skips)
    _add_device(parser)


def _add_device(parser: argparse.ArgumentParser) -> None:
    """--device for the commands that run a saved model: training's own declaration (they compute in float32)."""
    from explorer.config import TrainConfig

    add_settings(parser, TrainConfig, only=("device",))


def _add_train(commands) -> None:
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import BUILTIN_DATASETS, DEFAULT_DATASET

    train = commands.add_parser("train", help="train a VAE (or, with --kind ae, a plain autoencoder) and save it as "
                                "a .safetensors checkpoint")
    train.add_argument("--data", default=DEFAULT_DATASET,
                       help=f"built-in name ({', '.join(BUILTIN_DATASETS)}) or a .npz/.zip path")
    add_settings(train, ModelConfig)
    add_settings(train, TrainConfig)
    train.add_argument("--out", required=True, help="where to write the checkpoint (.safetensors)")
    train.add_argument("--history", action="store_true",
                       help="also write the test images' latent means and σ before training and at each epoch's end "
                            "(every epoch to 10, then every 5th) beside the checkpoint, where the app finds them")


def _add_vector(commands) -> None:
    vector = commands.add_parser("vector", help="build an attribute vector (mean with it - mean without) and score "
                                                "what it does to decoded test images, strength by strength")
    vector.add_argument("checkpoint")
    vector.add_argument("--attribute", required=True,
                        help="a named level of a known factor (glyphs: bold, italic, serif, mono), a known quantity "
                             "(sprites: scale, rotation, x, y) or a pixel measure (ink, slant, width, height)")
    vector.add_argument("--data", help="built-in name or .npz/.zip path (default: the data it was trained on)")
    _add_split(vector)
    vector.add_argument("--images", type=int, default=300, help="images the vector is added to (default 300)")
    _add_device(vector)


def build_parser() -> argparse.ArgumentParser:
    from explorer.config import ProjectionConfig

    installed = Path(sys.argv[0]).name == COMMAND  # run as the package's console command, not as -m explorer
    parser = _Parser(prog=COMMAND if installed else "python -m explorer",
                     description="Train, evaluate and encode VAEs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    _add_train(commands)
    _add_scoring(commands.add_parser("eval", help="score a checkpoint on its test split"))

    embed = commands.add_parser("embed", help="project a checkpoint's latent means to 2-D and store the map beside it")
    embed.add_argument("checkpoint")
    _add_split(embed)
    embed.add_argument("--data", help="data set to encode (default: the one it was trained on)")
    add_settings(embed, ProjectionConfig)
    _add_device(embed)
    embed.add_argument("--out",
                       help="where to write the .npz (default: beside the checkpoint, as the app looks for it)")

    score = commands.add_parser("score", help="per-image IWAE log p(x) bound, ELBO, reconstruction and KL, as CSV")
    _add_scoring(score)
    score.add_argument("--out", required=True, help="where to write the CSV")

    _add_vector(commands)

    encode = commands.add_parser("encode", help="write the latent means and log-variances (an autoencoder's codes) "
                                 "of a data split")
    encode.add_argument("checkpoint")
    encode.add_argument("--out", required=True, help="latents.npz or latents.csv")
    encode.add_argument("--data", help="data set to encode (default: the one it was trained on)")
    _add_split(encode)
    _add_device(encode)
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _train(args) -> int:
    """Train one model: in this process, or, under torchrun, in every process of the group (explorer.distributed)."""
    from explorer import distributed

    group = distributed.join(args.device) if distributed.launched() else None
    with distributed.watching(group):
        code = _train_in(args, group)
    if group is not None:
        distributed.leave()
    return code


def _shown(metrics, last, posterior: bool) -> dict[str, str]:
    """The progress bar's numbers for a step (last: the latest epoch end's metrics)."""
    shown = dict(epoch=metrics.epoch, recon=f"{metrics.recon:.1f}")
    if posterior:  # an autoencoder has no KL term and no ELBO
        return shown | dict(kl=f"{metrics.kl:.2f}", beta=f"{metrics.beta:.2f}",
                            test_elbo=f"{last.test_elbo:.2f}" if last else "-")
    return shown | dict(test_recon=f"{last.test_recon:.2f}" if last else "-")


def _run_with_bar(model, dataset, train_config, group, maps, leader: bool):
    """Train with a progress bar on stderr (the leader's); (every step's metrics, the last epoch end's)."""
    from tqdm import tqdm

    from explorer.train import train_steps

    steps, last = [], None
    with tqdm(desc=f"training on {dataset.name}", unit="step", file=sys.stderr, dynamic_ncols=True,
              disable=not leader) as bar:
        for metrics in train_steps(model, dataset, train_config, group=group):
            if bar.total is None:
                bar.reset(total=metrics.total_steps)
            steps.append(metrics)
            if maps is not None and metrics.epoch_end:
                maps.record(metrics.epoch)
            last = metrics if metrics.epoch_end else last
            bar.set_postfix(_shown(metrics, last, model.kind.posterior), refresh=False)
            bar.update(1)
    return steps, last


def _train_in(args, group) -> int:
    from explorer.checkpoint import save_checkpoint
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import BUILTIN_DATASETS
    from explorer.datafiles import load_dataset
    from explorer.diagnostics import collapse, stall
    from explorer.distributed import together
    from explorer.latent import encode_dataset, mean_kl_per_dim
    from explorer.model import create_model
    from explorer.runtime import resolve_device

    out = Path(args.out)
    with together(group):  # bad input on any process ends them all, with one message
        if out.suffix != ".safetensors":
            raise ValueError(f"--out must end in .safetensors, e.g. {out.with_suffix('.safetensors')}")
        model_config, train_config = config_from(ModelConfig, args), config_from(TrainConfig, args)
        dataset = load_dataset(args.data)
        model = create_model(model_config, dataset.image_shape, dataset.num_classes, seed=train_config.seed)
        device = group.device(train_config.device) if group else resolve_device(train_config.device)
    leader = group is None or group.leader
    if group is not None and leader:
        print(group.describe(train_config.batch_size, device), flush=True)
    maps = _MapRecorder(model, dataset, train_config.epochs) if args.history and leader else None
    steps, last = _run_with_bar(model, dataset, train_config, group, maps, leader)
    if not leader:
        return 0  # the leader evaluates and writes the one checkpoint
    try:
        save_checkpoint(out, model, dataset=args.data if args.data in BUILTIN_DATASETS else str(Path(args.data)),
                        label_names=dataset.label_names, train_config=train_config,
                        step_history=[m.to_dict() for m in steps], world_size=group.world_size if group else 1,
                        data_fingerprint=dataset.fingerprint)
    except OSError as error:  # its message names the hidden temp file, not the file asked for
        raise OSError(f"could not write {out}: {error.strerror or error}. Nothing was written.") from error
    test = encode_dataset(model, dataset, "test")
    print(f"{_summary(last, test)} | {steps[-1].samples_per_s:,.0f} samples/s | saved {out}")
    if maps is not None:
        print(f"wrote the test map at {len(maps.epochs)} epochs to {maps.save(out)}")
    weighs_kl = model.kind.weighs_kl
    found = [stall(steps, weighs_kl=weighs_kl)] + (
        [collapse(mean_kl_per_dim(test.mu, test.logvar), weighs_kl)] if model.kind.posterior else [])
    for diagnosis in filter(None, found):
        print(f"{diagnosis.level}: {diagnosis.text}", file=sys.stderr)
    return 0


class _MapRecorder:
    """The test images' posteriors before training and at the epochs explorer.history keeps: `train --history`."""

    def __init__(self, model, dataset, epochs: int):
        self.model, self.dataset, self.last = model, dataset, epochs
        self.epochs, self.snapshots = [], []
        self.record(0)

    def record(self, epoch: int) -> None:
        from explorer.history import recorded_epoch
        from explorer.latent import encode_dataset

        if recorded_epoch(epoch, self.last):
            self.epochs.append(epoch)
            self.snapshots.append(encode_dataset(self.model, self.dataset, "test"))

    def save(self, checkpoint: Path) -> Path:
        from explorer.checkpoint import load_checkpoint
        from explorer.history import history_path, save_history, stack_history

        fingerprint = load_checkpoint(checkpoint).fingerprint  # the file's sha256: the history belongs to these bytes
        return save_history(history_path(checkpoint), stack_history(self.epochs, self.snapshots),
                            fingerprint=fingerprint)


def _summary(last, test) -> str:
    """The test split's scores at the end of training: a VAE's ELBO terms and active dimensions, an AE's
    reconstruction."""
    from explorer.latent import count_active_units
    from explorer.numbers import si

    if test.logvar is None:
        return f"test reconstruction {si(last.test_recon)} nats/image (an autoencoder: no KL term)"
    return (f"test ELBO {si(last.test_elbo)} nats/image (recon {si(last.test_recon)}, KL {si(last.test_kl)}) | "
            f"active dimensions {count_active_units(test.mu, test.logvar)} of {test.mu.shape[1]}")


def _load_for_scoring(args):
    from explorer.checkpoint import load_checkpoint
    from explorer.datafiles import load_dataset
    from explorer.runtime import resolve_device

    checkpoint = load_checkpoint(args.checkpoint)
    source = args.data or checkpoint.dataset
    try:
        dataset = load_dataset(source)
    except ValueError as error:
        if args.data:
            raise
        raise ValueError(f"{error} (this checkpoint was trained on {source!r}; pass --data to choose the "
                         "data)") from None
    checkpoint.model.to(resolve_device(args.device))
    if dataset.image_shape != checkpoint.image_shape:
        raise ValueError(
            f"the checkpoint expects {checkpoint.image_shape} images but {dataset.name} has {dataset.image_shape}"
        )
    if checkpoint.model_config.conditional and dataset.num_classes != checkpoint.model.num_classes:
        raise ValueError(f"the checkpoint is conditioned on {checkpoint.model.num_classes} classes, {dataset.name} "
                         f"has {dataset.num_classes}")
    return checkpoint, dataset


def _eval(args) -> int:
    from explorer.config import ModelConfig
    from explorer.evaluation import evaluate
    from explorer.objectives import NO_LIKELIHOOD

    if args.k < 0:
        return _fail("--k must be 0 (no IWAE) or more")
    checkpoint, dataset = _load_for_scoring(args)
    scores = evaluate(checkpoint.model, dataset, args.split, k=args.k, seed=args.seed)
    config = checkpoint.model_config
    kind = f"{checkpoint.model.kind.noun}, " if config.kind != ModelConfig().kind else ""
    rows = [
        ("checkpoint", f"{args.checkpoint} ({kind}{config.arch}, z={config.latent_dim}, {config.likelihood}"
                       f"{', conditional' if config.conditional else ''}, trained on {checkpoint.dataset})"),
        ("data", f"{dataset.name}, {args.split} split, {scores.n_images:,} images"),
    ]
    if scores.elbo is None:
        rows += [("reconstruction", f"{scores.recon:.2f} nats/image"),
                 ("ELBO, KL, log p(x)", f"not defined: {NO_LIKELIHOOD}")]
    else:
        rows += [(f"{args.split} ELBO", f"{scores.elbo:.2f} nats/image"),
                 ("reconstruction", f"{scores.recon:.2f} nats/image"),
                 ("KL", f"{scores.kl:.2f} nats/image")]
    if scores.iwae is not None:
        rows.append((f"IWAE log p(x), k={scores.k}", f"{scores.iwae:.2f} nats/image"))
    if scores.active_units >= 0:
        rows.append(("active units", f"{scores.active_units} of {config.latent_dim}"))
    if dataset.factors and config.latent_dim >= 2:
        rows.append(("disentanglement (MIG)", _mig_line(checkpoint.model, dataset, args.split)))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _mig_line(model, dataset, split: str) -> str:
    """'0.31 (shape 0.05 in z3, scale 0.62 in z0, ...)': the score and, per known factor, its gap and best dimension."""
    from explorer.disentanglement import mig
    from explorer.latent import encode_dataset

    index = dataset.split_index(split)
    result = mig(encode_dataset(model, dataset, split).mu, tuple(f.take(index) for f in dataset.factors))
    gaps = ", ".join(f"{g.factor} {g.gap:.2f} in z{g.dimension}" for g in result.factors)
    return f"{result.score:.2f} ({gaps})"


def _vector(args) -> int:
    """Score an attribute vector: a table of strengths with the share moved the intended way and the share kept."""
    from explorer.latent import encode_dataset
    from explorer.reader import reader_for
    from explorer.data import nouns
    from explorer.numbers import share
    from explorer.vectors import attribute_names, scored

    if args.images < 1:
        return _fail("--images must be 1 or more")
    checkpoint, dataset = _load_for_scoring(args)
    if args.attribute not in (names := attribute_names(dataset)):
        return _fail(f"{dataset.name} has no attribute {args.attribute!r}; choose one of {', '.join(names)}")
    latents = encode_dataset(checkpoint.model, dataset, args.split)
    needs_reader = dataset.factors or dataset.labels is not None
    if needs_reader:
        print(f"reading decoded images with the reader of {dataset.name} (trained once, then kept) ...",
              file=sys.stderr)
    reader = reader_for(dataset) if needs_reader else None
    score = scored(checkpoint.model, dataset, latents, args.attribute, reader, n=args.images)
    print(f"{args.attribute} vector of {args.checkpoint}: the mean latent of the {args.split} images with it minus "
          f"those without; + strengths added to images without it, - strengths to images with it")
    kept_header = f"kept their {nouns(dataset)[1]}"
    print(f"{'strength':>8}  {'images':>6}  {'moved the intended way':>22}  {kept_header:>20}")
    for row in score.strengths:
        if row.strength:
            kept = "-" if row.kept is None else share(row.kept)
            print(f"{row.strength:>+8g}  {row.images:>6,}  {share(row.moved):>22}  {kept:>20}")
    return 0


def _score(args) -> int:
    import time

    from explorer.config import ScoreConfig
    from explorer.export import scores_csv
    from explorer.files import write_atomically
    from explorer.scoring import score_images

    out = Path(args.out)
    if out.suffix != ".csv":
        return _fail(f"--out must end in .csv, not {out.name!r}")
    config = config_from(ScoreConfig, args)  # k from 1 to 5,000, as declared, before anything is loaded
    checkpoint, dataset = _load_for_scoring(args)
    started = time.perf_counter()
    scores = score_images(checkpoint.model, dataset, dataset.split_index(args.split), k=config.k, seed=config.seed)
    seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, scores_csv(scores, dataset.label_names).encode())
    print(f"scored {len(scores.index):,} {args.split} images of {dataset.name} (k={args.k}, {seconds:.1f} s): "
          f"log p(x) median {np.median(scores.log_px):.2f}, lowest {scores.log_px.min():.2f} nats; wrote {out}")
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
        if latents.logvar is not None:  # an autoencoder's code has no variance
            extra["logvar"] = latents.logvar
        np.savez(out, mu=latents.mu, index=latents.index, label_names=np.asarray(dataset.label_names, dtype=str),
                 **extra)
    else:
        out.write_text(latents_csv(latents, dataset.label_names))
    print(f"wrote {len(latents.index):,} latent vectors ({latents.mu.shape[1]}-D, {args.split} split) to {out}")
    return 0


def _embed(args) -> int:
    import time

    from explorer.config import ProjectionConfig
    from explorer.embedfile import embedding_path, save_embedding
    from explorer.latent import encode_dataset
    from explorer.projections import project

    config = config_from(ProjectionConfig, args)
    checkpoint, dataset = _load_for_scoring(args)
    latents = encode_dataset(checkpoint.model, dataset, args.split)
    started = time.perf_counter()
    projection = project(latents.mu, config.method, config.params, config.random_seed)
    out = Path(args.out) if args.out else embedding_path(Path(args.checkpoint), args.split, args.method)
    save_embedding(out, projection, latents.index, fingerprint=checkpoint.fingerprint, split=args.split,
                   params=config.params, seed=config.random_seed)
    print(f"wrote the {args.method} map of {len(latents.index):,} {args.split} images to {out} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from explorer import distributed
    from explorer.train import TrainingDiverged

    # Under torchrun, a failure every process meets alike (bad input, a divergence) is said once, by the first
    # process that met it (rank 0 for a divergence); losing the others, by each process that lost them.
    try:
        return {"train": _train, "eval": _eval, "encode": _encode, "embed": _embed, "score": _score,
                "vector": _vector}[args.command](args)
    except distributed.RunBroken as error:
        distributed.hush()
        return _fail(str(error))
    except distributed.Quiet:
        code = 1
    except TrainingDiverged as error:
        code = _fail(f"{error} Nothing was written.") if distributed.is_leader() else 1
    except (ValueError, OSError) as error:
        code = _fail(str(error))
    except KeyboardInterrupt:
        distributed.hush()
        return _fail("interrupted; nothing was written.", 130) if distributed.is_leader() else 130
    distributed.part()
    return code


if __name__ == "__main__":
    sys.exit(main())
