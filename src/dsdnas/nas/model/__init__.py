"""The model: an architecture as data (`arch`), its blocks and builder, its readable
source (`codegen`), and what it costs (`costs`: counted MACs and params; `latency`: measured)."""
