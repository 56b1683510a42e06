"""vllm.lora (stand-in)."""
