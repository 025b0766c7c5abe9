# Competency-model validation pipeline: questionnaire export -> cleaning -> scores -> reliability -> summary.
# Thin on purpose: every rule lives in workflow/rules/, every computation in src/compval/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/codebook.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/reliability.smk"
include: "workflow/rules/efa.smk"
include: "workflow/rules/cfa.smk"
include: "workflow/rules/criterion.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/presentation.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/power_helpers.smk"
include: "workflow/rules/power.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
