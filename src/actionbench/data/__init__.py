"""Data layer: raw datasets -> index -> JPEG frames -> split lists -> mini sets -> clips.

Pipeline (each step a module and an ``actionbench`` subcommand, see docs/data.md):

1. :mod:`~actionbench.data.adapters` — official annotation formats -> one index table.
2. :mod:`~actionbench.data.extract` — videos -> ``<frames_root>/<video_id>/img_00001.jpg ...``
   (or :mod:`~actionbench.data.reencode` — videos -> ``<videos_root>/<video_id>.mp4``; both run
   on :mod:`~actionbench.data.ffmpeg_jobs`' worker pool).
3. :mod:`~actionbench.data.lists` — index + extraction -> ``train.csv``/``val.csv``/``classes.csv``.
4. :mod:`~actionbench.data.mini` — class subsets (paper, Table 11).
5. :mod:`~actionbench.data.sampling`, :mod:`~actionbench.data.transforms`,
   :mod:`~actionbench.data.dataset` — clips for training and evaluation.

Nothing is imported here, so ``import actionbench.data.adapters`` does not pull in torch.
"""
