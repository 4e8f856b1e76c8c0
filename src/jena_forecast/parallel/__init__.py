"""`dvc repro` on a Dask cluster: each stale stage as its own `dvc --wait-for-lock repro -s
<stage>` on a worker, once the stages it reads from have finished.

    python -m jena_forecast.parallel --jobs 2                    # a LocalCluster of 2 workers
    python -m jena_forecast.parallel --jobs 2 train@gru train@lstm   # those and what they need
    python -m jena_forecast.parallel --scheduler tcp://head:8786    # workers in their own clones

``plan`` reads the pipeline and the stale stages from DVC; ``worker`` runs one stage on a worker;
``records`` carries a stage's result between clones; ``runner`` is the head. docs/parallel.md has
the commands for one machine and for several.
"""
