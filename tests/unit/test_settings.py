"""One declaration per setting: validation, CLI flags and links all follow the declared defaults and bounds."""

from __future__ import annotations

import dataclasses

import pytest

from explorer.__main__ import build_parser, config_from
from explorer.config import PRESETS, MapConfig, ModelConfig, PathConfig, ProjectionConfig, SamplingConfig, TrainConfig
from explorer.settings import Spec, describe, is_valid, link_names, parse, specs

CONFIGS = (ModelConfig, TrainConfig, ProjectionConfig, PathConfig, SamplingConfig, MapConfig)


@pytest.mark.parametrize("config_type", CONFIGS)
def test_every_field_is_declared_and_its_default_is_valid(config_type):
    declared = specs(config_type)
    assert set(declared) == {f.name for f in dataclasses.fields(config_type)}
    for name, (field, spec) in declared.items():
        assert isinstance(spec, Spec) and spec.label and spec.help, name
        assert is_valid(field, spec, field.default), name
        for tick in spec.ticks or ():
            assert is_valid(field, spec, tick), (name, tick)


def test_the_cli_flags_are_the_declarations():
    args = build_parser().parse_args(["train", "--out", "m.safetensors"])
    assert config_from(ModelConfig, args) == ModelConfig() and config_from(TrainConfig, args) == TrainConfig()
    args = build_parser().parse_args(["train", "--out", "m.safetensors", "--latent-dim", "16", "--hidden", "64,32",
                                      "--free-bits", "0.5", "--conditional", "--arch", "conv"])
    model, train = config_from(ModelConfig, args), config_from(TrainConfig, args)
    assert (model.latent_dim, model.hidden_dims, model.conditional, model.arch) == (16, (64, 32), True, "conv")
    assert train.free_bits == 0.5
    embed = build_parser().parse_args(["embed", "c.safetensors", "--method", "tsne", "--perplexity", "40"])
    assert config_from(ProjectionConfig, embed) == ProjectionConfig(method="tsne", perplexity=40)


def test_link_names_are_unique():
    names = [link for config_type in CONFIGS for link in link_names(config_type).values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("text, ok", [("30", True), ("1", False), ("101", False), ("abc", False), ("1e99", False)])
def test_a_linked_value_is_checked_against_its_declaration(text, ok):
    field, spec = specs(ProjectionConfig)["n_neighbors"]
    try:
        valid = is_valid(field, spec, parse(field, text))
    except ValueError:
        valid = False
    assert valid == ok
    assert describe(field, spec) == "a whole number from 2 to 100"


def test_a_map_depends_only_on_its_own_methods_parameters():
    assert ProjectionConfig(method="pca", n_neighbors=30, seed=4).key == ProjectionConfig(method="pca").key
    assert ProjectionConfig(method="umap", perplexity=50).key == ProjectionConfig(method="umap").key
    assert ProjectionConfig(method="umap", n_neighbors=30).key != ProjectionConfig(method="umap").key
    assert ProjectionConfig(method="tsne").params == {"perplexity": 30}


def test_each_train_preset_sets_declared_fields_to_valid_values():
    fields = specs(ModelConfig) | specs(TrainConfig)
    assert set(specs(ModelConfig)).isdisjoint(specs(TrainConfig))  # a preset's field name says which config it is
    assert {p: v["kind"] for p, (_, v) in PRESETS.items()} == {"ae": "ae", "vae": "vae", "beta_vae": "vae"}
    assert PRESETS["beta_vae"][1]["beta"] == 4.0
    for label, values in PRESETS.values():
        for name, value in values.items():
            assert is_valid(*fields[name], value), (label, name, value)
