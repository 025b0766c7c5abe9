# Competency-model validation pipeline: questionnaire export -> cleaning -> scores -> reliability -> summary.
# Thin on purpose: every rule lives in workflow/rules/, every computation in src/compval/.
from snakemake.utils import min_version

min_version("9.0")


# The bundled demo's config, unless the command line names one (`--configfile my.yaml`): then that file alone is
# the configuration, with the tool's neutral defaults (src/compval/schemas/config.schema.yaml) for every key it
# leaves out, never the demo's choices.
if not workflow.overwrite_configfiles:

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
include: "workflow/rules/revision.smk"
include: "workflow/rules/presentation.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/power_helpers.smk"
include: "workflow/rules/power.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
