"""The model pool: named models, tiers, prices, and the cost of every call.

A pool is a TOML file (see README, "Pool file"). Each model names a backend and where it
lives (a GGUF path or catalog name for ``llamacpp``; a base URL, model id and the *name* of
the environment variable holding the key for ``openai``), a tier, and prices in USD per
million input and output tokens. Local models may leave prices out and give their size
instead: the pool's ``local_price_per_billion_params`` then prices them in proportion to
parameter count (compute), which is how the shipped default pool is priced.

Backends are created on first use and shared process-wide, so a GGUF file is loaded once
however many pools or threads use it.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
import time
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from subroute.errors import ConfigError, SubrouteError
from subroute.models.base import Completion, GenerateParams, Message, Model

if TYPE_CHECKING:
    from subroute.cache import CallCache

DEFAULT_TIERS = ("small", "medium", "large", "xlarge")
DEFAULT_SHARE = 0.2  # share of large-model tokens a tokenroute model is priced at when it names none


TOKENROUTE_FIELDS = ("small", "large", "router", "threshold", "share")


class ModelSpec(BaseModel):
    """One model of a pool, as written in the pool file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Name used to select the model (CLI --model, pool[name]).")
    backend: Literal["llamacpp", "openai", "tokenroute"] = Field(
        description="llamacpp (local GGUF), openai (HTTP), or tokenroute (two local models of the pool routed "
                    "token by token, R2R)."
    )
    tier: str = Field(description="Capability tier; ordered by the pool's `tiers`.")
    price_in: float | None = Field(None, ge=0, description="USD per million input tokens.")
    price_out: float | None = Field(None, ge=0, description="USD per million output tokens.")
    params_b: float | None = Field(None, gt=0, description="Parameter count in billions.")
    context_length: int | None = Field(None, gt=0, description="Context window in tokens.")
    description: str = ""
    # llamacpp
    path: str | None = Field(None, description="GGUF file (relative to the pool file).")
    catalog: str | None = Field(None, description="Catalog name of a default model (`subroute models pull`).")
    sha256: str | None = Field(None, description="Expected sha256 of `path`; checked before loading.")
    n_threads: int | None = Field(None, gt=0, description="CPU threads for llama.cpp.")
    # openai
    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://localhost:8000/v1.")
    model: str | None = Field(None, description="Model id the server knows the model by.")
    api_key_env: str | None = Field(None, description="Name of the environment variable that holds the key.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries with exponential backoff.")
    # tokenroute
    small: str | None = Field(None, description="The pool's llamacpp model that writes by default.")
    large: str | None = Field(None, description="The pool's llamacpp model that writes the flagged tokens.")
    router: str | None = Field(None, description="Token router: 'shipped' (the default; trained for the default "
                                                 "pair), an artifact folder, or a baseline: entropy, top1, random.")
    threshold: float | None = Field(None, description="Router threshold; default: the artifact's, or the one "
                                                      "it recorded for `share`.")
    share: float | None = Field(None, gt=0, lt=1, description="Target share of large-model tokens (picks the "
                                                             "learned router's threshold; prices the model).")

    @model_validator(mode="after")
    def _check_backend_fields(self) -> "ModelSpec":
        if self.backend == "tokenroute":
            if not (self.small and self.large):
                raise ValueError("a tokenroute model needs `small` and `large`, names of llamacpp models of the pool")
            for f in ("path", "catalog", "sha256", "base_url", "model", "api_key_env", "price_in", "price_out",
                      "params_b"):
                if getattr(self, f) is not None:
                    raise ValueError(f"`{f}` is not for tokenroute models: they run, and are priced as, "
                                     "the pool's `small` and `large`")
            if self.router in ("entropy", "top1", "random") and self.threshold is None:
                raise ValueError(f"the {self.router} token router needs a `threshold`")
            return self
        for f in TOKENROUTE_FIELDS:
            if getattr(self, f) is not None:
                raise ValueError(f"`{f}` is for tokenroute models, not {self.backend}")
        if self.backend == "llamacpp":
            if bool(self.path) == bool(self.catalog):
                raise ValueError("a llamacpp model needs exactly one of `path` or `catalog`")
            for f in ("base_url", "model", "api_key_env"):
                if getattr(self, f) is not None:
                    raise ValueError(f"`{f}` is for openai models, not llamacpp")
        else:
            if not self.base_url:
                raise ValueError("an openai model needs `base_url` (e.g. http://localhost:8000/v1)")
            if not self.model:
                raise ValueError("an openai model needs `model`, the id the server serves it as")
            for f in ("path", "catalog", "sha256", "n_threads"):
                if getattr(self, f) is not None:
                    raise ValueError(f"`{f}` is for llamacpp models, not openai")
        return self


class PoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "pool"
    description: str = ""
    default_model: str | None = Field(None, description="Model `subroute ask --model` defaults to.")
    tiers: list[str] = Field(default_factory=lambda: list(DEFAULT_TIERS), description="Tiers, cheapest first.")
    local_price_per_billion_params: float | None = Field(
        None, ge=0, description="USD per million tokens per billion parameters, for models without prices."
    )
    probe: str | None = Field(
        None, description="Model whose token confidence routes each step (R2-Reasoner's small model); default: "
                          "the cheapest. Routing ladders start at its tier."
    )


class PoolFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool: PoolSettings = Field(default_factory=PoolSettings)
    models: list[ModelSpec]


# Backends are shared across pools and threads: loading a GGUF twice would double memory.
_BACKENDS: dict[tuple, Model] = {}
_BACKENDS_LOCK = threading.RLock()  # reentrant: a tokenroute backend creates its two models


@atexit.register
def _close_backends() -> None:
    # llama-cpp-python frees its model in a destructor that fails noisily when it runs
    # during interpreter teardown; close local models while everything is still there
    for b in list(_BACKENDS.values()):
        close = getattr(getattr(b, "llm", None), "close", None)
        if close is not None:
            close()


@dataclass
class PoolModel:
    """A model of a pool: its spec, prices, and a lazily created backend."""

    spec: ModelSpec
    price_in: float
    price_out: float
    tier_rank: int
    base_dir: Path
    cache: "CallCache | None" = None
    members: "tuple[PoolModel, PoolModel] | None" = None  # a tokenroute model's (small, large)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tier(self) -> str:
        return self.spec.tier

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The price of a call of this size (a tokenroute model's nominal price: see `charge`)."""
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1e6

    def charge(self, c: Completion) -> float:
        """What call `c` cost: its tokens at this model's prices, or for a tokenroute model
        each model's reads and writes at that model's prices."""
        from subroute.models.tokenroute import usage_of

        u = usage_of(c) if self.members else None
        if u is None:
            return self.cost(c.usage.input_tokens, c.usage.output_tokens)
        small, large = self.members  # type: ignore[misc]
        return small.cost(u.small_in, u.small_out) + large.cost(u.large_in, u.large_out)

    def _key(self) -> tuple:
        s = self.spec
        if s.backend == "tokenroute":
            small, large = self.members  # type: ignore[misc]
            return ("tokenroute", small._key(), large._key(), self.router_path() or s.router, s.threshold, s.share)
        if s.backend == "llamacpp":
            return ("llamacpp", str(self.model_path()), s.context_length, s.n_threads)
        # a changed key in the environment must give a new client; keep only a digest of it
        key = os.environ.get(s.api_key_env, "") if s.api_key_env else ""
        digest = hashlib.sha256(key.encode()).hexdigest()
        return ("openai", s.base_url, s.model, s.api_key_env, digest, s.timeout_s, s.max_retries)

    def router_path(self) -> Path | None:
        """A tokenroute model's learned-router artifact folder (None for a baseline router)."""
        r = self.spec.router or "shipped"
        if r in ("entropy", "top1", "random"):
            return None
        if r == "shipped":
            from subroute.models.tokenroute import shipped_router_dir

            return shipped_router_dir()
        p = Path(r).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def model_path(self) -> Path:
        """The GGUF file of a local model (without checking it exists)."""
        from subroute.models import catalog

        if self.spec.catalog:
            return catalog.get(self.spec.catalog).path()
        p = Path(self.spec.path).expanduser()  # type: ignore[arg-type]
        return p if p.is_absolute() else self.base_dir / p

    @property
    def backend(self) -> Model:
        return self._shared(self._key(), self._create_backend)

    def adapter_backend(self, lora_path: str | Path) -> Model:
        """This local model with a llama.cpp LoRA adapter applied (a trained decomposer),
        shared like `backend`: one instance per (GGUF, adapter) per process."""
        if self.spec.backend != "llamacpp":
            raise ConfigError(f"model '{self.name}': LoRA adapters need a llamacpp model, not {self.spec.backend}")
        lora = str(Path(lora_path).resolve())
        return self._shared(self._key() + ("lora", lora), lambda: self._create_backend(lora))

    @staticmethod
    def _shared(key: tuple, create: Callable[[], Model]) -> Model:
        with _BACKENDS_LOCK:
            b = _BACKENDS.get(key)
            if b is None:
                b = _BACKENDS[key] = create()
            return b

    def _create_backend(self, lora_path: str | None = None) -> Model:
        s = self.spec
        if s.backend == "tokenroute":
            from subroute.models.tokenroute import TokenRoutedModel, TokenRouter, check_pair

            small, large = self.members  # type: ignore[misc]
            path = self.router_path()
            if path is None:
                router = TokenRouter.baseline(s.router, s.threshold)  # type: ignore[arg-type]
            else:
                router = TokenRouter.load(path, threshold=s.threshold, share=s.share)
                check_pair(router, path, small, large, model_name=s.name)
            return TokenRoutedModel(s.name, small.backend, large.backend, router)
        if s.backend == "llamacpp":
            from subroute.models import catalog
            from subroute.models.llamacpp import LlamaCppModel

            if s.catalog:
                path = catalog.get(s.catalog).require()
            else:
                path = catalog.require_file(self.model_path(), s.sha256, model_name=s.name)
            name = f"{s.name}+lora" if lora_path else s.name
            return LlamaCppModel(name, path, n_ctx=s.context_length, n_threads=s.n_threads, lora_path=lora_path)
        from subroute.models.openai_http import OpenAIModel

        return OpenAIModel(
            s.name, base_url=s.base_url, model=s.model, api_key_env=s.api_key_env,  # type: ignore[arg-type]
            timeout_s=s.timeout_s, max_retries=s.max_retries, context_length=s.context_length,
        )

    def generate(
        self,
        messages: list[Message] | str,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: tuple[str, ...] | list[str] = (),
        seed: int = 0,
        logprobs: bool = True,
        system: str | None = None,
    ) -> Completion:
        """Run one call and charge it. A string is taken as one user message."""
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        if system:
            messages = [{"role": "system", "content": system}, *messages]
        params = GenerateParams(max_tokens, temperature, tuple(stop), seed, logprobs)
        key = None
        if self.cache is not None and temperature == 0:
            key = self.cache.key(self.identity(), messages, params)
            hit = self.cache.get(key)
            if hit is not None:
                hit.model = self.name
                hit.cost = self.charge(hit)
                return hit
        backend = self.backend
        t0 = time.perf_counter()
        c = backend.generate(messages, params)
        c.latency_s = time.perf_counter() - t0
        c.model = self.name
        c.cost = self.charge(c)
        if key is not None:
            self.cache.put(key, c)  # type: ignore[union-attr]
        return c

    def identity(self) -> dict[str, Any]:
        """What determines this model's output: the cache key's model part (never the key)."""
        d = self.spec.model_dump(exclude={"name", "description", "tier", "price_in", "price_out",
                                          "timeout_s", "max_retries", "n_threads", *TOKENROUTE_FIELDS})
        if self.members:
            from subroute.models.catalog import hash_file

            small, large = self.members
            path = self.router_path()
            d.update(small=small.identity(), large=large.identity(), router=self.spec.router or "shipped",
                     threshold=self.spec.threshold, share=self.spec.share,
                     weights=hash_file(path / "weights.npz") if path and (path / "weights.npz").is_file() else None)
        if self.spec.backend == "llamacpp" and self.spec.path:
            p = self.model_path()
            d["file"] = [p.stat().st_size, p.stat().st_mtime_ns] if p.is_file() else None
        return d

    def count_tokens(self, text: str) -> int | None:
        return self.backend.count_tokens(text)


class Pool:
    """Named models with tiers and prices. `Pool.load()` reads the shipped default pool."""

    def __init__(self, settings: PoolSettings, specs: list[ModelSpec], *, source: str, base_dir: Path) -> None:
        self.settings = settings
        self.source = source
        tiers = settings.tiers
        self._models: dict[str, PoolModel] = {}
        for i, s in enumerate(specs):
            where = f"pool file {source}: models[{i}] ({s.name})"
            if s.name in self._models:
                raise ConfigError(f"{where}: duplicate model name '{s.name}'; names must be unique")
            if s.tier not in tiers:
                raise ConfigError(f"{where}: tier '{s.tier}' is not one of {tiers}; add it to [pool] tiers")
            pin, pout = s.price_in, s.price_out
            if s.backend == "tokenroute":  # priced below, from its two models
                self._models[s.name] = PoolModel(s, 0.0, 0.0, tiers.index(s.tier), base_dir)
                continue
            if pin is None or pout is None:
                rate = settings.local_price_per_billion_params
                if rate is None or s.params_b is None:
                    raise ConfigError(
                        f"{where}: no price; set price_in and price_out (USD per million tokens), "
                        "or params_b with [pool] local_price_per_billion_params"
                    )
                pin = rate * s.params_b if pin is None else pin
                pout = rate * s.params_b if pout is None else pout
            self._models[s.name] = PoolModel(s, pin, pout, tiers.index(s.tier), base_dir)
        if not self._models:
            raise ConfigError(f"pool file {source}: no models; add at least one [[models]] table")
        for m in list(self._models.values()):
            if m.spec.backend == "tokenroute":
                self._pair(m, source)
        for key in ("default_model", "probe"):
            name = getattr(settings, key)
            if name and name not in self._models:
                raise ConfigError(
                    f"pool file {source}: [pool] {key} '{name}' is not a model of the pool ({', '.join(self._models)})"
                )

    def _pair(self, m: PoolModel, source: str) -> None:
        where = f"pool file {source}: model '{m.name}'"
        pair = []
        for role in ("small", "large"):
            name = getattr(m.spec, role)
            other = self._models.get(name)
            if other is None or other.spec.backend != "llamacpp":
                raise ConfigError(f"{where}: {role} '{name}' is not a llamacpp model of the pool; "
                                  f"name one of: {', '.join(n for n, o in self._models.items() if o.spec.backend == 'llamacpp')}")
            pair.append(other)
        small, large = pair
        if small is large:
            raise ConfigError(f"{where}: small and large are the same model; name two models")
        m.members = (small, large)
        share = m.spec.share if m.spec.share is not None else DEFAULT_SHARE
        # nominal prices, for ordering and the allocator's features: both read the prompt
        # (the large model as soon as it is first called), and the writes are split by share
        m.price_in = small.price_in + large.price_in
        m.price_out = (1 - share) * small.price_out + share * large.price_out

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Pool":
        """Read a pool file; with no path, the default local pool shipped in the package."""
        if path is None:
            text = resources.files("subroute").joinpath("default_pool.toml").read_text()
            return cls.from_toml(text, source="<default pool>", base_dir=Path.cwd())
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"pool file {p} not found; pass an existing TOML file to --pool")
        return cls.from_toml(p.read_text(), source=str(p), base_dir=p.resolve().parent)

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>", base_dir: Path | None = None) -> "Pool":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"pool file {source}: not valid TOML: {e}") from None
        return cls.from_dict(data, source=source, base_dir=base_dir or Path.cwd())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>", base_dir: Path | None = None) -> "Pool":
        try:
            f = PoolFile.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in err["loc"]).replace(".[", "[")
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelt?)"
            more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
            raise ConfigError(f"pool file {source}: {loc or 'top level'}: {msg}{more}") from None
        return cls(f.pool, f.models, source=source, base_dir=base_dir or Path.cwd())

    # -- access --------------------------------------------------------------------------
    def __getitem__(self, name: str) -> PoolModel:
        try:
            return self._models[name]
        except KeyError:
            raise SubrouteError(
                f"unknown model '{name}'; the pool ({self.source}) has: {', '.join(self._models)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self):
        return iter(self.models)

    def __len__(self) -> int:
        return len(self._models)

    @property
    def models(self) -> list[PoolModel]:
        """Models from cheapest tier to most capable, then by output price."""
        return sorted(self._models.values(), key=lambda m: (m.tier_rank, m.price_out, m.price_in))

    def use_cache(self, cache: "CallCache | None") -> "Pool":
        """Cache this pool's deterministic calls on disk (None turns caching off)."""
        for m in self._models.values():
            m.cache = cache
        return self

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    @property
    def default_model(self) -> PoolModel:
        if self.settings.default_model:
            return self[self.settings.default_model]
        return self.models[-1]

    @property
    def probe_model(self) -> PoolModel:
        """The model whose confidence routes steps: `[pool] probe`, else the cheapest."""
        return self[self.settings.probe] if self.settings.probe else self.models[0]

    @property
    def tiers(self) -> list[str]:
        return [t for t in self.settings.tiers if any(m.tier == t for m in self._models.values())]


def cheapest_per_tier(pool: Pool) -> list[PoolModel]:
    """One model per tier, the cheapest of each, from the smallest tier up."""
    out: dict[str, PoolModel] = {}
    for m in pool.models:
        out.setdefault(m.tier, m)
    return list(out.values())


def routing_ladder(pool: Pool) -> list[PoolModel]:
    """The rungs a confidence rule or cascade climbs: the pool's probe model, then the
    cheapest model of each dearer tier."""
    probe = pool.probe_model
    return [probe] + [m for m in cheapest_per_tier(pool) if m.tier_rank > probe.tier_rank]
