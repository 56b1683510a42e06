"""Every command's config: frozen dataclasses that YAML presets (swe_srl/presets/<command>/) map onto.

One module per command (train, collect, evaluate, data, synthesize), the sections several share
(sections.py), and the loading that serves them all (loading.py). The training names are
re-exported here, where the training code has always imported them from.
"""

from swe_srl.config.train import (PRESETS_DIR, DataConfig, GrpoConfig, LoraConfig, ModelConfig, OptimConfig,
                                  RolloutConfig, RunConfig, SftConfig, TrainConfig, load_config)

__all__ = ["PRESETS_DIR", "DataConfig", "GrpoConfig", "LoraConfig", "ModelConfig", "OptimConfig", "RolloutConfig",
           "RunConfig", "SftConfig", "TrainConfig", "load_config"]
