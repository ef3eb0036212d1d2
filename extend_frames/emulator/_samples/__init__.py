"""Sample corpus generation and the processor configs that fit it (see ``samples``)."""
