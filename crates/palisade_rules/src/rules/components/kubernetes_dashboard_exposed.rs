use crate::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags the risky ways of running the Kubernetes Dashboard:
    ///
    /// - a dashboard container (`kubernetesui/dashboard*`, or the old
    ///   `kubernetes-dashboard-amd64` image) started with `--enable-skip-login` or
    ///   `--enable-insecure-login` (`high`), or running a v1 image (`high`);
    /// - a Service of type `LoadBalancer` or `NodePort` that selects or names the dashboard
    ///   (`k8s-app: kubernetes-dashboard`, `app.kubernetes.io/name: kubernetes-dashboard…`)
    ///   (`high`);
    /// - an Ingress whose backend is a dashboard Service (`medium`), unless the ingress
    ///   controller authenticates requests first (an `…/auth-url`, `…/auth-type` or
    ///   `…/auth-signin` annotation, as ingress-nginx uses for oauth2-proxy or basic auth).
    ///
    /// Bindings of the dashboard's ServiceAccount to `cluster-admin` or other broad roles are
    /// reported by `kubernetes-dashboard-broad-permissions`.
    ///
    /// ## Why is this bad?
    /// The dashboard is a web UI with the rights of whoever logs in, or of its own
    /// ServiceAccount when login is skipped: exposed to a network, it has been the entry
    /// point of well-known cluster compromises (cryptomining on Tesla's cluster). Versions
    /// before v2 had authentication bypasses (CVE-2018-18264). Reach it through
    /// `kubectl port-forward` or an authenticating proxy instead.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// metadata: {name: kubernetes-dashboard}
    /// spec:
    ///   type: LoadBalancer
    ///   selector: {k8s-app: kubernetes-dashboard}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   type: ClusterIP   # and `kubectl -n kubernetes-dashboard port-forward svc/kubernetes-dashboard 8443:443`
    /// ```
    ///
    /// ## References
    /// - https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md
    /// - CVE-2018-18264
    pub KubernetesDashboardExposed {
        code: "CMP008",
        name: "kubernetes-dashboard-exposed",
        section: Components,
        severity: High,
        summary: "Kubernetes Dashboard exposed, without login, or older than v2",
        kubeaudit: None,
        status: Stable { since: "0.1.0" },
        default_enabled: true,
    }
}

/// Whether an image is the Kubernetes Dashboard: `kubernetesui/dashboard`, its v3+ modules
/// (`kubernetesui/dashboard-api`, `-web`, `-auth`, …, from any registry), or the old
/// `kubernetes-dashboard-amd64` image.
pub(crate) fn is_dashboard_image(r: &ImageRef<'_>) -> bool {
    r.repository.ends_with("kubernetesui/dashboard")
        || r.repository.starts_with("kubernetesui/dashboard-")
        || r.repository.ends_with("kubernetes-dashboard-amd64")
        || r.repository.ends_with("kubernetes-dashboard")
}

fn is_dashboard_name(s: &str) -> bool {
    s.contains("kubernetes-dashboard")
}

impl Rule for KubernetesDashboardExposed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &mut Checker<'_, '_>) {
        if let Some(pod) = cx.pod {
            check_containers(cx, pod);
            return;
        }
        let object = cx.object;
        match (object.group(), object.kind) {
            ("", "Service") => check_service(cx),
            ("networking.k8s.io" | "extensions", "Ingress") => check_ingress(cx),
            _ => {}
        }
    }
}

fn check_containers(cx: &mut Checker<'_, '_>, pod: &PodSpec<'_>) {
    let doc = cx.doc();
    for c in &pod.containers {
        let Some(image_node) = doc.get(c.node, "image") else {
            continue;
        };
        let Some(image) = doc.str(image_node) else {
            continue;
        };
        let r = ImageRef::parse(image);
        if !is_dashboard_image(&r) {
            continue;
        }
        // The v3+ modules (`dashboard-web`, `dashboard-api`, …) have their own 1.x versions.
        let monolith = !r.repository.starts_with("kubernetesui/dashboard-");
        if let Some(tag) = r.tag.filter(|_| monolith) {
            let t = tag.trim_start_matches('v');
            if t.starts_with("1.") || t == "1" {
                cx.report(image_node, c.path.key("image"))
                    .container(c)
                    .message(format!(
                        "{} runs Kubernetes Dashboard `{image}`, older than v2: its login can \
                         be bypassed (CVE-2018-18264)",
                        c.describe()
                    ))
                    .remediation("upgrade to a current Dashboard release (v2 or later)");
            }
        }
        for field in ["args", "command"] {
            let Some(list) = doc.get(c.node, field) else {
                continue;
            };
            for (i, &arg) in doc.items(list).iter().enumerate() {
                let Some(text) = doc.text_of(arg) else {
                    continue;
                };
                let (flag, value) = text.split_once('=').unwrap_or((text, "true"));
                let what = match flag {
                    "--enable-skip-login" => {
                        "lets anyone skip the login and act as its ServiceAccount"
                    }
                    "--enable-insecure-login" => "accepts logins over plain HTTP",
                    _ => continue,
                };
                if value.eq_ignore_ascii_case("false") {
                    continue;
                }
                cx.report(arg, c.path.key(field).index(i))
                    .container(c)
                    .message(format!(
                        "{} runs the Kubernetes Dashboard with `{text}`: it {what}",
                        c.describe()
                    ))
                    .remediation(format!("remove `{flag}`"));
            }
        }
    }
}

fn check_service(cx: &mut Checker<'_, '_>) {
    let object = cx.object;
    let doc = cx.doc();
    let Some(ty) = object.get(&["spec", "type"]) else {
        return;
    };
    let Some(kind) = doc
        .text_of(ty)
        .filter(|t| matches!(*t, "LoadBalancer" | "NodePort"))
    else {
        return;
    };
    let selects = object.get(&["spec", "selector"]).is_some_and(|s| {
        doc.entries(s).iter().any(|&(k, v)| {
            let (k, v) = (doc.text_of(k).unwrap_or(""), doc.text_of(v).unwrap_or(""));
            matches!(k, "k8s-app" | "app.kubernetes.io/name" | "app") && is_dashboard_name(v)
        })
    });
    let name = object.name().unwrap_or("");
    if !selects && !is_dashboard_name(name) {
        return;
    }
    let kind = kind.to_owned();
    cx.report(ty, object.path(&["spec", "type"]))
        .message(format!(
            "Service `{name}` exposes the Kubernetes Dashboard as `{kind}`: anyone who reaches \
             the nodes or the load balancer reaches its login page"
        ))
        .remediation(
            "use `type: ClusterIP` and reach the dashboard with `kubectl port-forward` or \
             through an authenticating proxy",
        );
}

fn check_ingress(cx: &mut Checker<'_, '_>) {
    let object = cx.object;
    let doc = cx.doc();
    let mut backends: Vec<(NodeId, FieldPath)> = Vec::new();
    let name_of = |backend: NodeId| {
        doc.path(backend, &["service", "name"])
            .map(|n| (n, vec!["service", "name"]))
            .or_else(|| {
                doc.get(backend, "serviceName")
                    .map(|n| (n, vec!["serviceName"]))
            })
    };
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = object.get(&["spec", key])
            && let Some((n, rest)) = name_of(b)
        {
            backends.push((n, object.path(&["spec", key]).keys(&rest)));
        }
    }
    if let Some(rules) = object.get(&["spec", "rules"]) {
        for (i, &rule) in doc.items(rules).iter().enumerate() {
            let Some(paths) = doc.path(rule, &["http", "paths"]) else {
                continue;
            };
            for (j, &p) in doc.items(paths).iter().enumerate() {
                if let Some(b) = doc.get(p, "backend")
                    && let Some((n, rest)) = name_of(b)
                {
                    let path = object
                        .path(&["spec", "rules"])
                        .index(i)
                        .keys(&["http", "paths"])
                        .index(j)
                        .key("backend")
                        .keys(&rest);
                    backends.push((n, path));
                }
            }
        }
    }
    // An ingress controller that authenticates first (`…/auth-url`, `…/auth-type`) is the
    // authenticating proxy this rule recommends.
    let authenticated = object.annotations().iter().any(|e| {
        e.key.ends_with("/auth-url")
            || e.key.ends_with("/auth-type")
            || e.key.ends_with("/auth-signin")
    });
    if authenticated {
        return;
    }
    let ingress = object.name().unwrap_or("(unnamed)").to_owned();
    for (node, path) in backends {
        let Some(service) = doc.text_of(node).filter(|s| is_dashboard_name(s)) else {
            continue;
        };
        let service = service.to_owned();
        cx.report(node, path)
            .severity(Severity::Medium)
            .message(format!(
                "Ingress `{ingress}` routes to the Kubernetes Dashboard (Service `{service}`): \
                 its login page is published beyond the cluster"
            ))
            .remediation(
                "remove the route, or put an authenticating proxy with an allow-list in front \
                 of it",
            );
    }
}
