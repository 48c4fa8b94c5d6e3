"""What the BentoML services share: request/response schemas, model loading and the tokenizer gate."""
