/* resources: the one table of resources idwatch-sim serves. Discovery, routing and the state's
 * stores all follow it, so adding a kind is one line here. */
#include "resources.h"

#include <string.h>

#define RW "get,list,watch,patch"
#define RO "get,list,watch"

/* group, version, plural, singular, kind, namespaced, custom, short names, verbs */
static const struct sim_resource resources[] = {
    {"", "v1", "namespaces", "namespace", "Namespace", false, false, "ns", RW},
    {"", "v1", "pods", "pod", "Pod", true, false, "po", RW},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, "sa", RW},
    {"", "v1", "services", "service", "Service", true, false, "svc", RW},
    {"", "v1", "endpoints", "endpoints", "Endpoints", true, false, "ep", RW},
    {"", "v1", "events", "event", "Event", true, false, "ev", RO},
    {"", "v1", "nodes", "node", "Node", false, false, "no", RW},
    {"apps", "v1", "deployments", "deployment", "Deployment", true, false, "deploy", RW},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, false, "rs", RW},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, false, "sts", RW},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, false, "ds", RW},
    {"batch", "v1", "jobs", "job", "Job", true, false, "", RW},
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, false, "cj", RW},
    {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
     "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, false, "", RW},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", false, false, "crd,crds", RW},
    {"aadpodidentity.k8s.io", "v1", "azureidentities", "azureidentity", "AzureIdentity", true, true,
     "", RW},
    {"aadpodidentity.k8s.io", "v1", "azureidentitybindings", "azureidentitybinding",
     "AzureIdentityBinding", true, true, "", RW},
    {"aadpodidentity.k8s.io", "v1", "azureassignedidentities", "azureassignedidentity",
     "AzureAssignedIdentity", true, true, "", RW},
    {"aadpodidentity.k8s.io", "v1", "azurepodidentityexceptions", "azurepodidentityexception",
     "AzurePodIdentityException", true, true, "", RW},
    {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
     "SelfSubjectAccessReview", false, false, "", "create"},
    /* served so that kubectl maps deploy/'s RBAC manifests (tests/integration/deploy_manifests.sh) */
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, false,
     "", RO},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", false, false, "", RO},
};

/* Listed in discovery (kubectl shows them; only pods/log is served). */
static const struct sim_subresource subresources[] = {
    {"", "v1", "pods/log", "Pod", NULL, NULL, "get"},
    {"", "v1", "pods/status", "Pod", NULL, NULL, "get,patch,update"},
    {"", "v1", "namespaces/status", "Namespace", NULL, NULL, "get,patch,update"},
    {"apps", "v1", "deployments/scale", "Scale", "autoscaling", "v1", "get,patch,update"},
    {"apps", "v1", "deployments/status", "Deployment", NULL, NULL, "get,patch,update"},
    {"apps", "v1", "replicasets/scale", "Scale", "autoscaling", "v1", "get,patch,update"},
    {"apps", "v1", "replicasets/status", "ReplicaSet", NULL, NULL, "get,patch,update"},
    {"apps", "v1", "statefulsets/scale", "Scale", "autoscaling", "v1", "get,patch,update"},
    {"apps", "v1", "statefulsets/status", "StatefulSet", NULL, NULL, "get,patch,update"},
    {"apps", "v1", "daemonsets/status", "DaemonSet", NULL, NULL, "get,patch,update"},
    {"batch", "v1", "jobs/status", "Job", NULL, NULL, "get,patch,update"},
    {"batch", "v1", "cronjobs/status", "CronJob", NULL, NULL, "get,patch,update"},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

size_t sim_resource_count(void)
{
    return COUNT(resources);
}

const struct sim_resource *sim_resource_at(size_t i)
{
    return i < COUNT(resources) ? &resources[i] : NULL;
}

const struct sim_resource *sim_resource_find(const char *group, const char *version,
                                             const char *plural)
{
    if (!group || !version || !plural)
        return NULL;
    for (size_t i = 0; i < COUNT(resources); i++) {
        const struct sim_resource *r = &resources[i];
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->name, plural) == 0)
            return r;
    }
    return NULL;
}

size_t sim_subresource_count(void)
{
    return COUNT(subresources);
}

const struct sim_subresource *sim_subresource_at(size_t i)
{
    return i < COUNT(subresources) ? &subresources[i] : NULL;
}

const struct sim_subresource *sim_subresource_find(const struct sim_resource *r, const char *sub)
{
    size_t plen = strlen(r->name);
    for (size_t i = 0; i < COUNT(subresources); i++) {
        const struct sim_subresource *s = &subresources[i];
        if (strcmp(s->group, r->group) == 0 && strcmp(s->version, r->version) == 0 &&
            strncmp(s->name, r->name, plen) == 0 && s->name[plen] == '/' &&
            strcmp(s->name + plen + 1, sub) == 0)
            return s;
    }
    return NULL;
}

/* Groups appear in table order; the table keeps each group's rows together. */
size_t sim_group_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < COUNT(resources); i++)
        if (i == 0 || strcmp(resources[i].group, resources[i - 1].group) != 0)
            n++;
    return n;
}

const char *sim_group_at(size_t idx)
{
    size_t n = 0;
    for (size_t i = 0; i < COUNT(resources); i++) {
        if (i == 0 || strcmp(resources[i].group, resources[i - 1].group) != 0) {
            if (n == idx)
                return resources[i].group;
            n++;
        }
    }
    return NULL;
}
