"""The LLM layer's section of ``[tool.fnreg]``: which endpoint and models, how hard to try, prices, cache."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fnreg.config import SECTION_CONFIG


class LLMConfig(BaseModel):
    """``[tool.fnreg]`` keys the LLM layer reads; the defaults of :class:`~fnreg.llm.settings.LLMSettings`."""

    model_config = ConfigDict(**SECTION_CONFIG)

    model: str = Field("gpt-4o-mini", description="The agent's model (Azure: the deployment name).")
    optimizer_model: str | None = Field(None, description="The optimizer's model (default: the agent's).")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (default: OpenAI).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key.")
    api_version: str | None = Field(None, description="Azure OpenAI API version.")
    organization: str | None = Field(None, description="OpenAI organisation id (else OPENAI_ORG_ID).")
    project: str | None = Field(None, description="OpenAI project id (else OPENAI_PROJECT_ID).")
    cache_namespace: str | None = Field(
        None, description="Keeps this project's cached LLM answers apart from others' on the same endpoint."
    )
    concurrency: int = Field(
        8, ge=1, description="LLM requests (and tasks) in flight at once.", json_schema_extra={"expects": "at least 1"}
    )
    timeout: float = Field(
        120.0, gt=0, description="Seconds per LLM request.", json_schema_extra={"expects": "a positive number"}
    )
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; responses are cached only at 0.")
    max_retries: int = Field(
        5, ge=0, description="Retries on 429, 5xx and timeouts.", json_schema_extra={"expects": "0 or more"}
    )
    prices: dict[str, list[float]] = Field(
        default_factory=dict,
        description="USD per 1M prompt and completion tokens, per model (over fnreg's built-in OpenAI prices).",
        json_schema_extra={"expects": 'a table of "model" = [prompt, completion] USD per 1M tokens'},
    )
    cache: bool = Field(True, description="Keep LLM responses in .fnreg/cache.sqlite.")

    @field_validator("prices", mode="before")
    @classmethod
    def _price_pairs(cls, value: object) -> object:
        if isinstance(value, dict):
            for model, pair in value.items():
                if not (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in pair)
                ):
                    raise ValueError(f"[tool.fnreg.prices] {model} must be [prompt, completion] USD per 1M tokens")
            return {model: [float(p) for p in pair] for model, pair in value.items()}
        return value
