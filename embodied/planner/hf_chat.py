"""Chat completions from a local Hugging Face causal-LM directory (transformers imported lazily)."""
from __future__ import annotations

from pathlib import Path

from embodied.planner.base import PlannerError


class HFChat:
    def __init__(self, model_dir: str, max_new_tokens: int = 256, device: str = "cpu"):
        path = Path(model_dir).expanduser() if model_dir else None
        if path is None or not (path / "config.json").is_file():
            raise PlannerError(f"planner.model_dir={model_dir!r} is not a local Hugging Face model directory "
                               f"(no config.json there); download a chat model to a folder and point at it")
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise PlannerError(f"planner=hf needs the transformers package: {e}") from None
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True).to(device).eval()
        self.max_new_tokens, self.device = max_new_tokens, device

    def __call__(self, messages: list[dict[str, str]]) -> str:
        import torch

        if getattr(self.tokenizer, "chat_template", None):
            prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in messages) + "\n\nASSISTANT:"
        inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        with torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
