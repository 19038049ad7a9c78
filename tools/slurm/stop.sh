#!/bin/bash
# Stops the single-node Slurm cluster that start.sh started (jobs are cancelled).
set -u
scancel --user=root 2>/dev/null || true
pkill -x slurmd; pkill -x slurmctld; pkill -x munged
echo "slurm: stopped"
