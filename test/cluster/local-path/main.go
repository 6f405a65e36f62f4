// local-path gives the local test cluster dynamic volumes, as kind and Minikube ship:
// every PersistentVolumeClaim of its StorageClass gets a hostPath PersistentVolume in a fresh
// directory on the node, and the directory is removed when the volume is released. It runs as
// a host process beside the kubelet (started by test/cluster/up), polling the API server.
//
// The StorageClass binds volumes when a pod needs them (WaitForFirstConsumer, as kind's): a
// claim is provisioned once the scheduler has picked the pod's node, and the scheduler binds
// the pod only when its claim is bound. With Immediate binding the scheduler could place the
// pod while the claim was half bound (volume name set, phase not yet Bound); the kubelet then
// refused to mount it and retried only after its 10 s back-off, on the start of every install.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const provisionerName = "todo-chatbot.local/local-path"

type provisioner struct {
	client kubernetes.Interface
	root   string
	class  string
	node   string
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of a cluster admin")
	root := flag.String("root", "", "directory that holds the volumes")
	class := flag.String("storage-class", "local-path", "StorageClass to serve")
	node := flag.String("node", "", "node name the volumes are pinned to")
	interval := flag.Duration("interval", 500*time.Millisecond, "poll interval")
	flag.Parse()
	if *kubeconfig == "" || *root == "" || *node == "" {
		log.Fatal("--kubeconfig, --root and --node are required")
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatal(err)
	}
	p := provisioner{client: kubernetes.NewForConfigOrDie(config), root: *root, class: *class, node: *node}
	log.Printf("serving StorageClass %s from %s", p.class, p.root)
	for ctx := context.Background(); ; time.Sleep(*interval) {
		if err := p.provisionPending(ctx); err != nil {
			log.Printf("provision: %v", err)
		}
		if err := p.deleteReleased(ctx); err != nil {
			log.Printf("delete: %v", err)
		}
	}
}

// Set on a claim by the scheduler when its binding waits for the first consumer.
const selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

func (p *provisioner) provisionPending(ctx context.Context) error {
	claims, err := p.client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var waitForConsumer *bool
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Status.Phase != corev1.ClaimPending || claim.Spec.VolumeName != "" ||
			claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != p.class {
			continue
		}
		if waitForConsumer == nil {
			class, err := p.client.StorageV1().StorageClasses().Get(ctx, p.class, metav1.GetOptions{})
			if err != nil {
				return err
			}
			wait := class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
			waitForConsumer = &wait
		}
		if node, ok := claim.Annotations[selectedNodeAnnotation]; *waitForConsumer && !ok {
			continue // no pod uses it yet
		} else if ok && node != p.node {
			log.Printf("claim %s/%s: selected node %s, but volumes live on %s", claim.Namespace, claim.Name, node, p.node)
			continue
		}
		if err := p.provision(ctx, claim); err != nil {
			log.Printf("claim %s/%s: %v", claim.Namespace, claim.Name, err)
		}
	}
	return nil
}

func (p *provisioner) provision(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(claim.UID)
	dir := filepath.Join(p.root, name)
	// World-writable like hostPath provisioners elsewhere: the pod's (non-root) user owns
	// nothing on the host, and hostPath volumes ignore fsGroup.
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	hostPathType := corev1.HostPathDirectory
	volume := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": provisionerName},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   claim.Spec.AccessModes,
			VolumeMode:                    claim.Spec.VolumeMode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              p.class,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hostPathType},
			},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node},
				}}}},
			}},
		},
	}
	_, err := p.client.CoreV1().PersistentVolumes().Create(ctx, volume, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		log.Printf("provisioned %s for %s/%s at %s", name, claim.Namespace, claim.Name, dir)
	}
	return err
}

func (p *provisioner) deleteReleased(ctx context.Context) error {
	volumes, err := p.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, volume := range volumes.Items {
		if volume.Annotations["pv.kubernetes.io/provisioned-by"] != provisionerName ||
			volume.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
			(volume.Status.Phase != corev1.VolumeReleased && volume.Status.Phase != corev1.VolumeFailed) ||
			volume.Spec.HostPath == nil {
			continue
		}
		dir := volume.Spec.HostPath.Path
		if !strings.HasPrefix(dir, p.root+string(os.PathSeparator)) {
			log.Printf("volume %s: %s is outside %s, left alone", volume.Name, dir, p.root)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Printf("volume %s: %v", volume.Name, err)
			continue
		}
		err := p.client.CoreV1().PersistentVolumes().Delete(ctx, volume.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			log.Printf("volume %s: %v", volume.Name, err)
			continue
		}
		log.Printf("deleted %s and %s", volume.Name, dir)
	}
	return nil
}
