"""Keras models: one builder per architecture, ``build_x(input_shape, n_classes, *, ...)``, each
registered in :data:`instrument_bench.models.MODELS`; :mod:`.training` fits and scores them."""
