//! Node names as TensorFlow makes them: slash-scoped (`dense/MatMul`) and made unique with a
//! counter suffix (`add`, `add_1`, `add_2`).

use super::Graph;
use crate::error::{Error, Result};

impl Graph {
    /// The name a node asking for `base` gets: the current scope is prefixed and, when the name
    /// is taken, `_1`, `_2`, ... appended, as TF's `Graph.unique_name`.
    pub(crate) fn unique_name(&mut self, base: &str) -> String {
        let name = match self.scopes.last() {
            Some(scope) => format!("{scope}/{base}"),
            None => base.to_string(),
        };
        let count = self.name_counts.entry(name.clone()).or_insert(0);
        let mut i = *count;
        *count += 1;
        if i == 0 && !self.names.contains_key(&name) {
            return name;
        }
        i = i.max(1);
        loop {
            let candidate = format!("{name}_{i}");
            i += 1;
            if !self.names.contains_key(&candidate) && !self.name_counts.contains_key(&candidate) {
                self.name_counts.insert(name.clone(), i);
                self.name_counts.insert(candidate.clone(), 1);
                return candidate;
            }
        }
    }

    /// Claims an exact name: it must be valid and free.
    pub(crate) fn claim_exact_name(&mut self, name: &str) -> Result<String> {
        check_name(name)?;
        if self.names.contains_key(name) {
            return Err(Error::DuplicateName { name: name.to_string() });
        }
        let count = self.name_counts.entry(name.to_string()).or_insert(0);
        *count = (*count).max(1);
        Ok(name.to_string())
    }

    /// Runs `f` with nodes named under `scope/` (the scope name itself made unique, as
    /// `tf.name_scope`).
    ///
    /// ```
    /// use stepflow::Graph;
    /// let mut g = Graph::new();
    /// let y = g.with_name_scope("dense", |g| g.constant(1.0f32))?;
    /// assert_eq!(g.node(y.node).name(), "dense/Const");
    /// let z = g.with_name_scope("dense", |g| g.constant(2.0f32))?;
    /// assert_eq!(g.node(z.node).name(), "dense_1/Const");
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn with_name_scope<R>(&mut self, scope: &str, f: impl FnOnce(&mut Graph) -> Result<R>) -> Result<R> {
        check_name(scope)?;
        let full = self.unique_name(scope);
        self.scopes.push(full);
        let r = f(self);
        self.scopes.pop();
        r
    }

    /// Runs `f`, which builds a value, under the name scope `name`, then gives the last node it
    /// created the exact name `name` — TF's `name=` argument of composite functions such as
    /// `exponential_decay`.
    ///
    /// ```
    /// use stepflow::Graph;
    /// let mut g = Graph::new();
    /// let a = g.constant(1.0f32)?;
    /// let lr = g.named("learning_rate", |g| { let two = g.constant(2.0f32)?; g.mul(a, two) })?;
    /// assert_eq!(g.node(lr.node).name(), "learning_rate");
    /// assert_eq!(g.output("learning_rate")?, lr);
    /// # Ok::<(), stepflow::Error>(())
    /// ```
    pub fn named<T: Into<super::Output> + Copy>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Graph) -> Result<T>,
    ) -> Result<T> {
        check_name(name)?;
        let scope = match self.scopes.last() {
            Some(s) => format!("{s}/{name}"),
            None => name.to_string(),
        };
        if self.names.contains_key(&scope) {
            return Err(Error::DuplicateName { name: scope });
        }
        let before = self.len();
        self.scopes.push(scope.clone());
        let r = f(self);
        self.scopes.pop();
        let out = r?;
        let node = out.into().node;
        if node.index() >= before {
            self.rename(node, &scope)?;
        }
        Ok(out)
    }

    /// Like [`named`](Graph::named), with the name made unique first (`GradientDescent`,
    /// `GradientDescent_1`): TF's `name_scope(name)` whose last op takes the scope's name.
    pub fn named_unique<T: Into<super::Output> + Copy>(
        &mut self,
        base: &str,
        f: impl FnOnce(&mut Graph) -> Result<T>,
    ) -> Result<T> {
        check_name(base)?;
        let full = self.unique_name(base);
        let saved = std::mem::take(&mut self.scopes);
        let r = self.named(&full, f);
        self.scopes = saved;
        r
    }

    /// Runs `f` outside every name scope (variables such as slots live at the top level).
    pub(crate) fn at_root<R>(&mut self, f: impl FnOnce(&mut Graph) -> Result<R>) -> Result<R> {
        let saved = std::mem::take(&mut self.scopes);
        let r = f(self);
        self.scopes = saved;
        r
    }

    /// Gives a node a new, free name (graph functions name the nodes they build this way).
    pub(crate) fn rename_node(&mut self, node: super::NodeId, name: &str) -> Result<()> {
        self.rename(node, name)
    }

    fn rename(&mut self, node: super::NodeId, name: &str) -> Result<()> {
        let name = self.claim_exact_name(name)?;
        let old = std::mem::replace(&mut self.dag[node.ix()].name, name.clone());
        self.names.remove(&old);
        self.names.insert(name, node);
        Ok(())
    }
}

/// TF's rule for node names: `[A-Za-z0-9.][A-Za-z0-9_.\-/]*`, so `:` never appears (it separates
/// the output slot).
pub(crate) fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if ok_first && ok_rest && !name.ends_with('/') && !name.contains("//") {
        Ok(())
    } else {
        Err(Error::argument("node name", name, "is not a valid node name (letters, digits, '_', '.', '-', '/')"))
    }
}
