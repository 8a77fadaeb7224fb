"""Training the router: grouped-search labels, the learned allocator (SFT then GRPO), and
the decomposer. Heavy dependencies (torch, trl, peft, ray) are imported inside the
functions that need them.

llama.cpp is loaded here, before anything can load torch: both use OpenMP through a
library named ``libgomp.so.1``, and a process loads one library per name, so whichever
comes first serves both. torch's wheel bundles an older copy; llama.cpp was built against
the system's, which also has every symbol torch needs. Training runs both in one process
(GRPO's reward runs the pipeline), so the order is fixed here (see the README's "Known
problems")."""

try:
    import llama_cpp  # noqa: F401
except ImportError:  # [local] not installed: nothing to order
    pass
