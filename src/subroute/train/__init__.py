"""Training the router: grouped-search labels, the learned allocator (SFT then GRPO), and
the decomposer. Heavy dependencies (torch, sentence-transformers, trl, peft, ray) are
imported inside the functions that need them."""
